package dev.kubelite.store.mvcc;

/**
 * A client's own id for one call, the same for every attempt, carried through Raft with the write
 * it names so {@link MvccStore#apply(long, WriteCommand, ClientRequest)} can answer a retry from
 * the request table instead of applying it again (decision 0012).
 *
 * @param client the client's random 64-bit id
 * @param seq the client's counter for this call, {@code > 0}
 * @param doneBelow every call of this client with a smaller {@code seq} has finished, so its record
 *     may be forgotten; 0 if the client did not say
 * @param fingerprint a hash of the request as the client sent it; the same id with another
 *     fingerprint is rejected
 */
public record ClientRequest(long client, long seq, long doneBelow, long fingerprint) {
  public ClientRequest {
    if (seq <= 0) {
      throw new IllegalArgumentException("client request seq must be > 0, got " + seq);
    }
    if (doneBelow < 0) {
      throw new IllegalArgumentException("client request doneBelow must be >= 0, got " + doneBelow);
    }
  }

  /** {@code <client hex>-<seq>}, as the client sent it. */
  @Override
  public String toString() {
    return String.format("%016x-%d", client, seq);
  }
}

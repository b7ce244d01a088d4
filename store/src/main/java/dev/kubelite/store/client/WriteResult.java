package dev.kubelite.store.client;

/**
 * Outcome of a write. {@code revision}: for {@link Status#OK}, the revision the write created (the
 * new {@code modRevision}); otherwise the store's revision when it answered. {@code kv}: for a
 * successful delete the deleted value; for {@link Status#ALREADY_EXISTS} and {@link
 * Status#CONFLICT} the key's current value; otherwise null.
 */
public record WriteResult(Status status, long revision, Kv kv) {

  /** What happened. */
  public enum Status {
    /** Applied. */
    OK,
    /** {@code create}: the key exists; nothing written. */
    ALREADY_EXISTS,
    /** {@code update}/{@code delete}: the key's modRevision is not the expected one. */
    CONFLICT,
    /** {@code update}/{@code delete}: the key does not exist; nothing written. */
    NOT_FOUND
  }

  public boolean ok() {
    return status == Status.OK;
  }

  static WriteResult ok(long revision, Kv kv) {
    return new WriteResult(Status.OK, revision, kv);
  }
}

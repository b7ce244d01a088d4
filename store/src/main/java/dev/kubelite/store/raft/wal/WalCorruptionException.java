package dev.kubelite.store.raft.wal;

/**
 * The Raft log on disk is damaged in a way that is not a torn write at its tail (which recovery
 * repairs on its own), so this member cannot safely rebuild its log. The message names the file and
 * offset. The remedy is operational: restore the member from a snapshot, or remove it from the
 * cluster and re-add it with an empty data directory so it catches up from the leader.
 */
public final class WalCorruptionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  static final String REMEDY =
      " Do not edit or delete log files by hand: restore this member from a snapshot, or remove it"
          + " from the cluster and re-add it with an empty data directory.";

  public WalCorruptionException(String message) {
    super(message + REMEDY);
  }

  public WalCorruptionException(String message, Throwable cause) {
    super(message + REMEDY, cause);
  }
}

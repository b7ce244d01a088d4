package dev.kubelite.store.mvcc;

/**
 * RocksDB failed underneath the engine. The in-memory state may no longer match the disk: stop
 * applying, close the store and restart the node so it reopens the database and replays the Raft
 * log from {@link MvccStore#appliedIndex()}.
 */
public final class MvccStorageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  MvccStorageException(String message, Throwable cause) {
    super(message, cause);
  }
}

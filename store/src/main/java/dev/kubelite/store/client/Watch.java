package dev.kubelite.store.client;

/** A running watch. */
public interface Watch extends AutoCloseable {
  /**
   * Asks the store to confirm how far this watch has got: once every event up to the store's
   * current revision was delivered, the listener hears {@link WatchListener#onProgress} with that
   * revision (etcd's {@code WatchProgressRequest}). The store may drop the request while the watch
   * is catching up; ask again later.
   */
  void requestProgress();

  /** Cancels the watch; the listener may still get calls already in flight, then nothing. */
  @Override
  void close();
}

package dev.kubelite.store.client;

import java.util.List;

/**
 * Receives a watch's events. Calls are never concurrent and come in revision order, without gaps or
 * duplicates; a revision's events are never split across calls. Callbacks must not block (the
 * remote implementation calls them on a Vert.x event loop). {@link #onCompacted} and {@link
 * #onError} are terminal: nothing follows them.
 */
public interface WatchListener {
  /** Events in revision order (one or more revisions). */
  void onEvents(List<WatchEvent> events);

  /**
   * Every event of this watch up to {@code revision} has been delivered: the answer to {@link
   * Watch#requestProgress}. Revisions only grow. The store's own revision may have moved past this
   * watch's keys, so this is how a quiet watch learns the current revision.
   */
  default void onProgress(long revision) {}

  /**
   * The requested start revision (or the revision to resume from) is compacted: events were lost.
   * The caller must re-list and watch again (Kubernetes answers 410 Gone).
   */
  void onCompacted(long compactRevision);

  /** The watch failed for another reason and ended. */
  void onError(KvStoreException error);
}

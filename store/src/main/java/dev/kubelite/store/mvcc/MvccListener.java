package dev.kubelite.store.mvcc;

import java.util.List;

/**
 * Called on the apply thread after each committed write revision, in revision order. Events carry
 * prevKv. Must be fast and must not throw: the revision is already durable when it is called.
 */
@FunctionalInterface
public interface MvccListener {
  void onRevision(long revision, List<Event> events);

  /**
   * The store this listener was registered on was replaced by a whole-state image (a Raft snapshot
   * from the leader) now at {@code revision}; revisions between the last one delivered and it were
   * never delivered one by one and must be read from history if needed.
   */
  default void onRestored(long revision) {}
}

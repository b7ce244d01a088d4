package dev.kubelite.store.mvcc;

import java.util.List;

/**
 * Called on the apply thread after each committed write revision, in revision order. Events carry
 * prevKv. Must be fast and must not throw: the revision is already durable when it is called.
 */
@FunctionalInterface
public interface MvccListener {
  void onRevision(long revision, List<Event> events);
}

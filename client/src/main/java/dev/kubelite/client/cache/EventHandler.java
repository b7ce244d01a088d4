package dev.kubelite.client.cache;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What an informer tells its handlers, in the order the changes happened, one at a time (never
 * concurrently). {@code onUpdate} with {@code oldObj == newObj}'s resourceVersion is a resync.
 */
public interface EventHandler {
  default void onAdd(ObjectNode obj) {}

  default void onUpdate(ObjectNode oldObj, ObjectNode newObj) {}

  /** The object as it was last known (after a re-list, possibly not its final state). */
  default void onDelete(ObjectNode obj) {}
}

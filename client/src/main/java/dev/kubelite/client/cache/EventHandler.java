package dev.kubelite.client.cache;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;

/**
 * What an informer tells its handlers, in the order the changes happened, one at a time (never
 * concurrently). {@code onUpdate} with {@code oldObj == newObj}'s resourceVersion is a resync.
 */
public interface EventHandler {
  default void onAdd(ObjectNode obj) {}

  default void onUpdate(ObjectNode oldObj, ObjectNode newObj) {}

  /** The object as it was last known (after a re-list, possibly not its final state). */
  default void onDelete(ObjectNode obj) {}

  /** A handler that gives {@code seen} the object as it now is on every add and update. */
  static EventHandler onAddOrUpdate(Consumer<ObjectNode> seen) {
    return new EventHandler() {
      @Override
      public void onAdd(ObjectNode obj) {
        seen.accept(obj);
      }

      @Override
      public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
        seen.accept(newObj);
      }
    };
  }

  /**
   * A handler that gives {@code changed} the object on every add and update (as it now is) and
   * delete (as last known).
   */
  static EventHandler onAnyChange(Consumer<ObjectNode> changed) {
    return new EventHandler() {
      @Override
      public void onAdd(ObjectNode obj) {
        changed.accept(obj);
      }

      @Override
      public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
        changed.accept(newObj);
      }

      @Override
      public void onDelete(ObjectNode obj) {
        changed.accept(obj);
      }
    };
  }
}

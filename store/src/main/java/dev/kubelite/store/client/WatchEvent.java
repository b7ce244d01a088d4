package dev.kubelite.store.client;

/**
 * One change. For a DELETE, {@code kv} has only the key and {@code modRevision} (the deletion's
 * revision). {@code prevKv} is the value just before, if requested and still available; else null.
 */
public record WatchEvent(Type type, Kv kv, Kv prevKv) {
  /** Event type. */
  public enum Type {
    PUT,
    DELETE
  }

  public long revision() {
    return kv.modRevision();
  }
}

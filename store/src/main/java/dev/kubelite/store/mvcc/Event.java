package dev.kubelite.store.mvcc;

/**
 * One change, as etcd's {@code mvccpb.Event}. {@code prevKv} is the key's value just before the
 * event's revision, or null if the key did not exist then or that state has been compacted.
 */
public record Event(Type type, KeyValue kv, KeyValue prevKv) {
  /** Event type. */
  public enum Type {
    PUT,
    DELETE
  }
}

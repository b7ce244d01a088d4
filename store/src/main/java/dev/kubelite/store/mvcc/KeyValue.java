package dev.kubelite.store.mvcc;

import java.util.Arrays;
import java.util.Objects;

/**
 * One version of a key, as etcd's {@code mvccpb.KeyValue}. A deletion (tombstone) in an event has
 * only {@code key} and {@code modRevision} set, as in etcd. The arrays are not copied on access:
 * treat them as read-only (listeners receive the instances the store keeps).
 *
 * @param key the key, never null
 * @param createRevision revision of the last creation of the key (0 for a tombstone)
 * @param modRevision revision of this version
 * @param version 1 on creation, +1 per modification; reset after delete (0 for a tombstone)
 * @param value the value, never null (empty for keys-only reads and tombstones)
 * @param lease attached lease id, 0 for none
 */
public record KeyValue(
    byte[] key, long createRevision, long modRevision, long version, byte[] value, long lease) {

  public KeyValue {
    Objects.requireNonNull(key, "key");
    value = Bytes.orEmpty(value);
  }

  static KeyValue tombstone(byte[] key, long revision) {
    return new KeyValue(key, 0, revision, 0, Bytes.EMPTY, 0);
  }

  KeyValue withoutValue() {
    return new KeyValue(key, createRevision, modRevision, version, Bytes.EMPTY, lease);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyValue kv
        && Arrays.equals(key, kv.key)
        && createRevision == kv.createRevision
        && modRevision == kv.modRevision
        && version == kv.version
        && Arrays.equals(value, kv.value)
        && lease == kv.lease;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        Arrays.hashCode(key), createRevision, modRevision, version, Arrays.hashCode(value), lease);
  }

  @Override
  public String toString() {
    return "KeyValue{key="
        + Bytes.show(key)
        + ", create="
        + createRevision
        + ", mod="
        + modRevision
        + ", version="
        + version
        + ", value="
        + Bytes.show(value)
        + ", lease="
        + lease
        + "}";
  }
}

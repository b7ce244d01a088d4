package dev.kubelite.store.client;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One stored version of a key, as etcd returns it. Arrays are not copied: treat them as read-only.
 *
 * @param key the key
 * @param value the value (empty for keys-only reads)
 * @param createRevision revision of the key's last creation
 * @param modRevision revision of this version (Kubernetes' resourceVersion)
 * @param version 1 on creation, +1 per modification
 * @param lease attached lease id, 0 for none
 */
public record Kv(
    byte[] key, byte[] value, long createRevision, long modRevision, long version, long lease) {

  public Kv {
    Objects.requireNonNull(key, "key");
    value = value == null ? new byte[0] : value;
  }

  /** The value as UTF-8 text (for tests and logs). */
  public String valueUtf8() {
    return new String(value, StandardCharsets.UTF_8);
  }

  public String keyUtf8() {
    return new String(key, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Kv kv
        && Arrays.equals(key, kv.key)
        && Arrays.equals(value, kv.value)
        && createRevision == kv.createRevision
        && modRevision == kv.modRevision
        && version == kv.version
        && lease == kv.lease;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        Arrays.hashCode(key), Arrays.hashCode(value), createRevision, modRevision, version, lease);
  }

  @Override
  public String toString() {
    return "Kv{key="
        + keyUtf8()
        + ", create="
        + createRevision
        + ", mod="
        + modRevision
        + ", version="
        + version
        + ", valueBytes="
        + value.length
        + ", lease="
        + lease
        + "}";
  }
}

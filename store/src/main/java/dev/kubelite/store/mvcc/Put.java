package dev.kubelite.store.mvcc;

/**
 * etcd's {@code PutRequest}. ignoreValue keeps the current value, ignoreLease the current lease;
 * both require the key to exist.
 */
public record Put(
    byte[] key, byte[] value, long lease, boolean prevKv, boolean ignoreValue, boolean ignoreLease)
    implements Op, WriteCommand {

  public Put {
    key = Bytes.orEmpty(key);
    value = Bytes.orEmpty(value);
  }

  public static Put of(byte[] key, byte[] value) {
    return new Put(key, value, 0, false, false, false);
  }

  public Put withLease(long l) {
    return new Put(key, value, l, prevKv, ignoreValue, ignoreLease);
  }

  public Put withPrevKv() {
    return new Put(key, value, lease, true, ignoreValue, ignoreLease);
  }
}

package dev.kubelite.store.mvcc;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/** Unsigned lexicographic byte order and etcd key-range helpers. */
public final class Bytes {
  /** Unsigned lexicographic order, as Go's {@code bytes.Compare}. */
  public static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

  static final byte[] EMPTY = new byte[0];

  private Bytes() {}

  /** UTF-8 bytes of {@code s}. */
  public static byte[] of(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The range end that selects every key with {@code prefix} (etcd's {@code GetPrefixRangeEnd}).
   */
  public static byte[] prefixEnd(byte[] prefix) {
    byte[] end = Arrays.copyOf(prefix, prefix.length);
    for (int i = end.length - 1; i >= 0; i--) {
      if ((end[i] & 0xff) < 0xff) {
        end[i]++;
        return Arrays.copyOf(end, i + 1);
      }
    }
    return new byte[] {0};
  }

  static byte[] orEmpty(byte[] b) {
    return b == null ? EMPTY : b;
  }

  /** True if {@code rangeEnd} is etcd's "\0" meaning "every key >= key". */
  static boolean isFromKey(byte[] rangeEnd) {
    return rangeEnd != null && rangeEnd.length == 1 && rangeEnd[0] == 0;
  }

  /** etcd range membership: empty end = single key, "\0" = all keys >= key, else [key, end). */
  static boolean inRange(byte[] k, byte[] key, byte[] rangeEnd) {
    if (rangeEnd == null || rangeEnd.length == 0) {
      return Arrays.equals(k, key);
    }
    if (ORDER.compare(k, key) < 0) {
      return false;
    }
    return isFromKey(rangeEnd) || ORDER.compare(k, rangeEnd) < 0;
  }

  static String show(byte[] b) {
    return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
  }
}

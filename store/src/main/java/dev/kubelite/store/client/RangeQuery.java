package dev.kubelite.store.client;

import java.util.Objects;

/**
 * A range read: keys in {@code [key, rangeEnd)} ({@code rangeEnd} empty = just {@code key}; {@code
 * {0}} = every key from {@code key} on), at most {@code limit} of them (0 = no limit), at {@code
 * revision} (0 = the current revision).
 */
public record RangeQuery(byte[] key, byte[] rangeEnd, long limit, long revision, Mode mode) {

  /** What to return per key. */
  public enum Mode {
    /** Keys with values. */
    ALL,
    /** Keys and metadata, values empty. */
    KEYS_ONLY,
    /** Only {@code count} (and the header revision); no kvs. */
    COUNT_ONLY
  }

  public RangeQuery {
    Objects.requireNonNull(key, "key");
    rangeEnd = rangeEnd == null ? new byte[0] : rangeEnd;
    mode = mode == null ? Mode.ALL : mode;
    if (limit < 0) {
      throw new IllegalArgumentException("range limit must be >= 0, got " + limit);
    }
  }

  /** Every key starting with {@code prefix}, at the current revision, no limit. */
  public static RangeQuery prefix(byte[] prefix) {
    return new RangeQuery(prefix, prefixEnd(prefix), 0, 0, Mode.ALL);
  }

  public RangeQuery withLimit(long l) {
    return new RangeQuery(key, rangeEnd, l, revision, mode);
  }

  public RangeQuery atRevision(long r) {
    return new RangeQuery(key, rangeEnd, limit, r, mode);
  }

  public RangeQuery withMode(Mode m) {
    return new RangeQuery(key, rangeEnd, limit, revision, m);
  }

  /** etcd's prefix end: the prefix with its last byte below 0xff incremented, trailing 0xff cut. */
  public static byte[] prefixEnd(byte[] prefix) {
    for (int i = prefix.length - 1; i >= 0; i--) {
      if ((prefix[i] & 0xff) != 0xff) {
        byte[] end = java.util.Arrays.copyOf(prefix, i + 1);
        end[i]++;
        return end;
      }
    }
    return new byte[] {0};
  }
}

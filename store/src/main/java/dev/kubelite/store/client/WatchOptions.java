package dev.kubelite.store.client;

import java.util.Objects;

/**
 * What to watch: keys in {@code [key, rangeEnd)} (as {@link RangeQuery}), from {@code
 * startRevision} on (0 = changes after the current revision), with each event's previous value if
 * {@code prevKv}.
 */
public record WatchOptions(byte[] key, byte[] rangeEnd, long startRevision, boolean prevKv) {
  public WatchOptions {
    Objects.requireNonNull(key, "key");
    rangeEnd = rangeEnd == null ? new byte[0] : rangeEnd;
    if (startRevision < 0) {
      throw new IllegalArgumentException("watch start revision must be >= 0, got " + startRevision);
    }
  }

  public static WatchOptions prefix(byte[] prefix, long startRevision, boolean prevKv) {
    return new WatchOptions(prefix, RangeQuery.prefixEnd(prefix), startRevision, prevKv);
  }
}

package dev.kubelite.store.client;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request ids for mutating calls: a random per-client prefix and a counter, e.g. {@code
 * 3f9a1c2e7b4d5a60-42}. One logical operation keeps its id across retries. The calls still in
 * progress are tracked, so the client can tell the store which ids it will never re-send ({@link
 * #doneBelow}): our store then forgets their deduplication records (decision 0012).
 */
final class RequestIds {
  /** One call's id. */
  record Id(long client, long seq, String text) {
    @Override
    public String toString() {
      return text;
    }
  }

  private final long client;
  private final String prefix;
  private final AtomicLong seq = new AtomicLong();
  private final ConcurrentSkipListSet<Long> inProgress = new ConcurrentSkipListSet<>();

  RequestIds() {
    byte[] b = new byte[8];
    new SecureRandom().nextBytes(b);
    this.prefix = HexFormat.of().formatHex(b);
    this.client = Long.parseUnsignedLong(prefix, 16);
  }

  /** A new id, in progress until {@link #finished}. */
  synchronized Id next() {
    long n = seq.incrementAndGet();
    inProgress.add(n);
    return new Id(client, n, prefix + "-" + n);
  }

  /** The call with this id has its final answer (or was given up): it is never re-sent. */
  void finished(Id id) {
    inProgress.remove(id.seq());
  }

  /** Every id of this client below this counter is finished. */
  synchronized long doneBelow() {
    // Synchronized with next(), so no id is counted but not yet in progress.
    Long lowest = inProgress.ceiling(0L);
    return lowest == null ? seq.get() + 1 : lowest;
  }
}

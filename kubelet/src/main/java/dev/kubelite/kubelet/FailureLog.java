package dev.kubelite.kubelet;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * One WARN line per period for a kind of failure that many nodes hit at once (an API server that is
 * down fails every node's heartbeat): the first failure is logged with its node and cause, the rest
 * of the period is counted and reported with the next line, so a thousand nodes do not print a
 * thousand lines every ten seconds.
 */
final class FailureLog {
  private final Logger log;
  private final String what;
  private final long periodNanos;
  private final LongSupplier nanoTime;
  private final AtomicLong nextLogAt;
  private final AtomicLong suppressed = new AtomicLong();

  FailureLog(Logger log, String what, long periodNanos, LongSupplier nanoTime) {
    this.log = log;
    this.what = what;
    this.periodNanos = periodNanos;
    this.nanoTime = nanoTime;
    this.nextLogAt = new AtomicLong(nanoTime.getAsLong());
  }

  FailureLog(Logger log, String what) {
    this(log, what, 10_000_000_000L, System::nanoTime);
  }

  /** Records one failure; logs it if nothing was logged in this period. */
  void failed(String node, String cause, String retry) {
    long now = nanoTime.getAsLong();
    long due = nextLogAt.get();
    if (now - due >= 0 && nextLogAt.compareAndSet(due, now + periodNanos)) {
      long others = suppressed.getAndSet(0);
      log.warn(
          "{}: cannot {}: {}; {}{}",
          node,
          what,
          cause,
          retry,
          others == 0 ? "" : " (" + others + " more such failures since the last report)");
    } else {
      suppressed.incrementAndGet();
    }
  }
}

package dev.kubelite.store.lincheck;

import java.time.Duration;
import java.util.Objects;

/**
 * How much work a check may do before giving up with {@link
 * LinearizabilityChecker.Verdict#UNKNOWN}.
 *
 * @param maxStepsPerPartition search steps allowed for each partition (a step is one attempt to
 *     linearize an operation or one backtrack)
 * @param timeout wall-clock limit for the whole check
 */
public record Budget(long maxStepsPerPartition, Duration timeout) {

  /**
   * Generous for histories of a few thousand operations at modest concurrency (which take thousands
   * to a few hundred thousand steps), while bounding memory: the memo cache holds at most one entry
   * per step, roughly 150 bytes each.
   */
  public static final Budget DEFAULT = new Budget(2_000_000, Duration.ofSeconds(10));

  public Budget {
    Objects.requireNonNull(timeout, "timeout");
    if (maxStepsPerPartition <= 0) {
      throw new IllegalArgumentException("maxStepsPerPartition must be positive");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive");
    }
  }

  /** No step limit and an effectively infinite deadline. */
  public static Budget unlimited() {
    return new Budget(Long.MAX_VALUE, Duration.ofDays(365));
  }

  public Budget withMaxStepsPerPartition(long steps) {
    return new Budget(steps, timeout);
  }

  public Budget withTimeout(Duration newTimeout) {
    return new Budget(maxStepsPerPartition, newTimeout);
  }
}

package dev.kubelite.store.lincheck;

import java.util.Objects;

/**
 * One client operation in a history: what was asked ({@code input}), what was answered ({@code
 * output}) and when, as {@code [callTime, returnTime]} (a closed interval, see the package
 * documentation).
 *
 * <p>An operation whose outcome is unknown (the client timed out or crashed) is <em>pending</em>:
 * its {@code returnTime} is {@link Long#MAX_VALUE} and its {@code output} is {@code null}. It may
 * have taken effect at any instant after its call, or never.
 *
 * @param clientId the client (process) that issued the operation; used only in reports
 * @param input what the client asked for; never null
 * @param output the answer the client received; null is a legal answer for a completed operation
 *     (for example a read of an absent key) and mandatory for a pending one
 * @param callTime when the client issued the operation
 * @param returnTime when the client received the answer, or {@link Long#MAX_VALUE} if never
 */
public record Operation<I, O>(int clientId, I input, O output, long callTime, long returnTime) {

  public Operation {
    Objects.requireNonNull(input, "input");
    if (returnTime < callTime) {
      throw new IllegalArgumentException(
          "returnTime " + returnTime + " is before callTime " + callTime);
    }
    if (returnTime == Long.MAX_VALUE && output != null) {
      throw new IllegalArgumentException("a pending operation (returnTime = +inf) has no output");
    }
  }

  /** A completed operation. */
  public static <I, O> Operation<I, O> of(
      int clientId, I input, O output, long callTime, long returnTime) {
    if (returnTime == Long.MAX_VALUE) {
      throw new IllegalArgumentException(
          "use Operation.pending for an operation that never returned");
    }
    return new Operation<>(clientId, input, output, callTime, returnTime);
  }

  /** An operation whose outcome the client never learned. */
  public static <I, O> Operation<I, O> pending(int clientId, I input, long callTime) {
    return new Operation<>(clientId, input, null, callTime, Long.MAX_VALUE);
  }

  /** Whether the outcome of this operation is unknown. */
  public boolean isPending() {
    return returnTime == Long.MAX_VALUE;
  }
}

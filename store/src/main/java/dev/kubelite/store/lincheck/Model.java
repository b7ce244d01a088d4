package dev.kubelite.store.lincheck;

import java.util.List;
import java.util.Optional;

/**
 * The sequential specification of an object: a deterministic state machine the checker tries to
 * explain a concurrent history with.
 *
 * <p>States are used as keys of the checker's memo cache, so they must be immutable and implement
 * {@link Object#equals} and {@link Object#hashCode} by value. They must not be null.
 *
 * @param <S> model state
 * @param <I> operation input
 * @param <O> operation output
 */
public interface Model<S, I, O> {

  /** The state before any operation. */
  S init();

  /**
   * Applies a completed operation: the next state if {@code output} is a legal answer to {@code
   * input} in {@code state}, else empty.
   */
  Optional<S> step(S state, I input, O output);

  /**
   * Applies an operation whose answer is unknown (see {@link Operation#pending}): the state after
   * it takes effect in {@code state}, whatever it would have answered, or empty if it cannot take
   * effect there. This is separate from {@link #step} because a null output is a meaningful answer
   * for many objects (a read of an absent key).
   */
  Optional<S> stepPending(S state, I input);

  /**
   * Whether this completed operation is a pure read: in every state where it is legal, {@link
   * #step} leaves the state unchanged (for a register, a get; a failed compare-and-set). The
   * checker linearizes a read-only operation as soon as it is legal and may go next, without trying
   * alternatives, which prunes most of the search for read-heavy histories. Answering true for an
   * operation that can change the state makes the checker unsound; false is always safe.
   */
  default boolean isReadOnly(I input, O output) {
    return false;
  }

  /**
   * Splits a history into independent sub-histories, each checked on its own from {@link #init()}
   * (P-compositionality: the history is linearizable iff every part is). The default is the whole
   * history. An implementation may also drop or resolve pending operations where that provably
   * cannot change the verdict.
   */
  default List<List<Operation<I, O>>> partition(List<Operation<I, O>> history) {
    return List.of(history);
  }

  /** One-line description of an input, for reports. */
  default String describeInput(I input) {
    return String.valueOf(input);
  }

  /** One-line description of a completed operation, for reports. */
  default String describe(I input, O output) {
    return describeInput(input) + " -> " + output;
  }

  /** One-line description of a state, for reports. */
  default String describeState(S state) {
    return String.valueOf(state);
  }

  /** Short label for a partition returned by {@link #partition}, for reports; may be empty. */
  default String describePartition(List<Operation<I, O>> partition) {
    return "";
  }
}

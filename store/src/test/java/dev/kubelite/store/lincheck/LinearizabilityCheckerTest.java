package dev.kubelite.store.lincheck;

import static dev.kubelite.store.lincheck.KvModel.OK;
import static dev.kubelite.store.lincheck.KvModel.cas;
import static dev.kubelite.store.lincheck.KvModel.get;
import static dev.kubelite.store.lincheck.KvModel.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.lincheck.LinearizabilityChecker.Result;
import dev.kubelite.store.lincheck.LinearizabilityChecker.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {

  private static Operation<KvModel.Input, String> op(
      int client, KvModel.Input in, String out, long call, long ret) {
    return Operation.of(client, in, out, call, ret);
  }

  private static Operation<KvModel.Input, String> pending(int client, KvModel.Input in, long call) {
    return Operation.pending(client, in, call);
  }

  @SafeVarargs
  private static Result check(Operation<KvModel.Input, String>... ops) {
    List<Operation<KvModel.Input, String>> history = new ArrayList<>();
    for (Operation<KvModel.Input, String> o : ops) {
      history.add(o);
    }
    return LinearizabilityChecker.check(KvModel.INSTANCE, history);
  }

  @Test
  void emptyHistoryIsLinearizable() {
    assertThat(check().verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void sequentialLegalHistory() {
    Result r =
        check(
            op(0, get("x"), null, 0, 1),
            op(0, put("x", "a"), OK, 2, 3),
            op(1, get("x"), "a", 4, 5),
            op(1, put("x", "b"), OK, 6, 7),
            op(0, get("x"), "b", 8, 9));
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(r.explanation()).isEmpty();
  }

  @Test
  void sequentialIllegalHistory() {
    Result r =
        check(
            op(0, put("x", "a"), OK, 0, 1),
            op(0, put("x", "b"), OK, 2, 3),
            op(0, get("x"), "a", 4, 5));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.explanation())
        .contains("key \"x\"")
        .contains("client 0  [4, 5]  get(\"x\") -> \"a\"")
        .contains("State after the prefix: \"b\"");
  }

  @Test
  void readOfAbsentKeyAfterWriteIsIllegal() {
    assertThat(check(op(0, put("x", "a"), OK, 0, 1), op(1, get("x"), null, 2, 3)).verdict())
        .isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void concurrentWriteAndReadMayBeOrderedEitherWay() {
    var write = op(0, put("x", "a"), OK, 0, 10);
    assertThat(check(write, op(1, get("x"), "a", 2, 5)).verdict()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(check(write, op(1, get("x"), null, 2, 5)).verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void staleReadAfterCompletedWriteIsIllegal() {
    Result r =
        check(
            op(0, put("x", "a"), OK, 0, 1),
            op(0, put("x", "b"), OK, 2, 3),
            op(1, get("x"), "a", 1, 2), // concurrent with both writes: fine
            op(2, get("x"), "a", 4, 6)); // after b completed: stale
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.explanation()).contains("client 2  [4, 6]  get(\"x\") -> \"a\"");
  }

  @Test
  void readOfValueWrittenAfterTheReadReturnedIsIllegal() {
    assertThat(check(op(1, get("x"), "a", 0, 5), op(0, put("x", "a"), OK, 6, 7)).verdict())
        .isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void pendingWriteMayBeSeen() {
    assertThat(
            check(
                    pending(0, put("x", "a"), 0),
                    op(1, get("x"), "a", 10, 11),
                    op(1, get("x"), "a", 12, 13))
                .verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void pendingWriteMayNeverBeSeen() {
    assertThat(
            check(
                    pending(0, put("x", "a"), 0),
                    op(1, get("x"), null, 10, 11),
                    op(1, get("x"), null, 100, 101))
                .verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void pendingWriteMayTakeEffectLongAfterItsCall() {
    assertThat(
            check(
                    pending(0, put("x", "a"), 0),
                    op(1, get("x"), null, 10, 11),
                    op(1, put("x", "b"), OK, 12, 13),
                    op(1, get("x"), "b", 14, 15),
                    op(1, get("x"), "a", 16, 17))
                .verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void pendingWriteSeenThenUnseenIsIllegal() {
    Result r =
        check(
            pending(0, put("x", "a"), 0),
            op(1, get("x"), "a", 10, 11),
            op(1, get("x"), null, 12, 13));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    // The pending write was observed, so KvModel resolves it to one that returned by t=11.
    assertThat(r.explanation())
        .contains("client 0  [0, 11]  put(\"x\", \"a\") -> ok (inferred; was pending)");
  }

  @Test
  void pendingWriteCannotTakeEffectBeforeItsCall() {
    assertThat(check(op(1, get("x"), "a", 0, 5), pending(0, put("x", "a"), 6)).verdict())
        .isEqualTo(Verdict.NOT_LINEARIZABLE);
  }

  @Test
  void readsInvertedAroundConcurrentWriteAreIllegal() {
    // read1 sees the new value, then a strictly later read2 sees the old one.
    Result r =
        check(
            op(0, put("x", "old"), OK, 0, 1),
            op(1, put("x", "new"), OK, 2, 20),
            op(2, get("x"), "new", 3, 5),
            op(3, get("x"), "old", 6, 8));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    // The same reads overlapping each other are fine.
    assertThat(
            check(
                    op(0, put("x", "old"), OK, 0, 1),
                    op(1, put("x", "new"), OK, 2, 20),
                    op(2, get("x"), "new", 3, 7),
                    op(3, get("x"), "old", 6, 8))
                .verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void intervalsAreClosedSoEqualTimesAreConcurrent() {
    // The write returns at 5 and the read is called at 5: they overlap, so the read may precede it.
    assertThat(check(op(0, put("x", "a"), OK, 0, 5), op(1, get("x"), null, 5, 6)).verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
    assertThat(check(op(0, put("x", "a"), OK, 0, 5), op(1, get("x"), null, 6, 7)).verdict())
        .isEqualTo(Verdict.NOT_LINEARIZABLE);
    // A read before a write it saw, touching at one instant.
    assertThat(check(op(1, get("x"), "a", 0, 5), op(0, put("x", "a"), OK, 5, 6)).verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void compareAndSet() {
    assertThat(
            check(
                    op(0, put("x", "a"), OK, 0, 1),
                    op(1, cas("x", "a", "b"), OK, 2, 10),
                    op(2, cas("x", "a", "c"), KvModel.FAIL, 3, 9),
                    op(0, get("x"), "b", 11, 12))
                .verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
    // Both cas from "a" cannot succeed.
    assertThat(
            check(
                    op(0, put("x", "a"), OK, 0, 1),
                    op(1, cas("x", "a", "b"), OK, 2, 10),
                    op(2, cas("x", "a", "c"), OK, 3, 9))
                .verdict())
        .isEqualTo(Verdict.NOT_LINEARIZABLE);
    // cas on an absent key.
    assertThat(check(op(0, cas("x", null, "a"), OK, 0, 1), op(0, get("x"), "a", 2, 3)).verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void pendingCasThatIsSeenIsLinearizable() {
    assertThat(
            check(
                    op(0, put("x", "a"), OK, 0, 1),
                    pending(1, cas("x", "a", "b"), 2),
                    op(2, get("x"), "b", 5, 6))
                .verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void keysAreCheckedIndependently() {
    Result ok =
        check(
            op(0, put("x", "a"), OK, 0, 1),
            op(1, put("y", "b"), OK, 0, 1),
            op(0, get("y"), "b", 2, 3),
            op(1, get("x"), "a", 2, 3));
    assertThat(ok.verdict()).isEqualTo(Verdict.LINEARIZABLE);
    assertThat(ok.partitions()).isEqualTo(2);
    Result bad =
        check(
            op(0, put("x", "a"), OK, 0, 1),
            op(1, put("y", "b"), OK, 0, 1),
            op(0, get("y"), "b", 2, 3),
            op(1, get("x"), "b", 2, 3));
    assertThat(bad.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(bad.explanation()).contains("partition 1 of 2 (key \"x\"");
  }

  @Test
  void explanationNamesThePrefixAndTheStuckOperations() {
    Result r =
        check(
            op(0, put("x", "a"), OK, 0, 1),
            op(1, put("x", "b"), OK, 2, 3),
            op(2, get("x"), "b", 4, 5),
            op(3, get("x"), "a", 6, 7),
            op(0, put("x", "c"), OK, 6, 9));
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.explanation())
        .contains("Longest linearizable prefix found: 4 ops (1 completed ops could not be placed")
        .contains("client 0  [6, 9]  put(\"x\", \"c\") -> ok\nState after the prefix: \"c\"")
        .contains(
            "client 3  [6, 7]  get(\"x\") -> \"a\"   <- illegal in this state;"
                + " must take effect by t=7");
  }

  @Test
  void exhaustedBudgetIsUnknownNeverLinearizable() {
    List<Operation<KvModel.Input, String>> history = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      history.add(op(i % 5, put("x", "v" + i), OK, i, i + 1));
    }
    Result r =
        LinearizabilityChecker.check(
            KvModel.INSTANCE, history, Budget.DEFAULT.withMaxStepsPerPartition(10));
    assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(r.explanation()).contains("step budget exhausted");
    assertThat(LinearizabilityChecker.check(KvModel.INSTANCE, history).verdict())
        .isEqualTo(Verdict.LINEARIZABLE);
  }

  @Test
  void expiredDeadlineIsUnknown() {
    // Many concurrent writes followed by an impossible read: exponential without memoization,
    // and still far more than 1024 steps with it.
    List<Operation<KvModel.Input, String>> history = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      history.add(op(i, put("x", "v" + i), OK, 0, 100));
    }
    history.add(op(9999, get("x"), "never", 200, 201));
    Result r =
        LinearizabilityChecker.check(
            KvModel.INSTANCE, history, Budget.unlimited().withTimeout(Duration.ofNanos(1)));
    assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(r.explanation()).contains("deadline passed");
  }

  /** A counter whose increments answer the new value: a model other than a register. */
  private static final class Counter implements Model<Long, String, Long> {
    @Override
    public Long init() {
      return 0L;
    }

    @Override
    public Optional<Long> step(Long state, String input, Long output) {
      long next = state + 1;
      return output != null && output == next ? Optional.of(next) : Optional.empty();
    }

    @Override
    public Optional<Long> stepPending(Long state, String input) {
      return Optional.of(state + 1);
    }
  }

  @Test
  void genericModelWithoutPartitioning() {
    Counter counter = new Counter();
    List<Operation<String, Long>> ok =
        List.of(
            Operation.of(0, "inc", 2L, 0, 10),
            Operation.of(1, "inc", 1L, 1, 9),
            Operation.<String, Long>pending(2, "inc", 2),
            Operation.of(0, "inc", 4L, 11, 12));
    assertThat(LinearizabilityChecker.check(counter, ok).verdict()).isEqualTo(Verdict.LINEARIZABLE);
    List<Operation<String, Long>> bad =
        List.of(Operation.of(0, "inc", 2L, 0, 1), Operation.of(1, "inc", 1L, 2, 3));
    Result r = LinearizabilityChecker.check(counter, bad);
    assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    assertThat(r.explanation()).contains("client 0  [0, 1]  inc -> 2");
  }

  @Test
  void operationValidation() {
    assertThatThrownBy(() -> Operation.of(0, get("x"), null, 5, 4))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Operation<>(0, get("x"), "a", 5, Long.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Operation.pending(0, get("x"), 3).isPending()).isTrue();
    assertThat(Operation.of(0, get("x"), "a", 3, 3).isPending()).isFalse();
  }
}

package dev.kubelite.store.lincheck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.lincheck.LinearizabilityChecker.Result;
import dev.kubelite.store.lincheck.LinearizabilityChecker.Verdict;
import dev.kubelite.store.lincheck.RegisterHistoryGenerator.Params;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sanity checks that large histories finish with a definite verdict under the default budget. Times
 * are printed, never asserted.
 */
class LinearizabilityPerformanceTest {

  private static final Params LARGE = new Params(8, 20, 5_000, 3, 10, 0.02, 0.05);

  @Test
  void fiveThousandOpsOverTwentyKeysWithEightClients() {
    for (long seed = 0; seed < 5; seed++) {
      List<Operation<KvModel.Input, String>> history =
          RegisterHistoryGenerator.history(seed, LARGE);
      Result r = LinearizabilityChecker.check(KvModel.INSTANCE, history);
      System.out.println("[lincheck perf] 5000 ops/20 keys/8 clients seed " + seed + ": " + r);
      assertThat(r.verdict()).as(r.toString()).isEqualTo(Verdict.LINEARIZABLE);

      // The same history with one read corrupted must be refuted, not left UNKNOWN.
      List<Operation<KvModel.Input, String>> bad = new ArrayList<>(history);
      for (int i = bad.size() / 2; i < bad.size(); i++) {
        Operation<KvModel.Input, String> op = bad.get(i);
        if (!op.isPending() && op.input() instanceof KvModel.Get) {
          bad.set(
              i,
              Operation.of(op.clientId(), op.input(), "corrupt", op.callTime(), op.returnTime()));
          break;
        }
      }
      Result rb = LinearizabilityChecker.check(KvModel.INSTANCE, bad);
      System.out.println(
          "[lincheck perf] corrupted seed "
              + seed
              + ": "
              + rb.verdict()
              + " "
              + rb.steps()
              + " steps, "
              + rb.elapsed().toMillis()
              + " ms");
      assertThat(rb.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }
  }

  @Test
  void fiveThousandOpsOnOneKeyWithTenClients() {
    // Put/get only: timed-out writes mixed with failed compare-and-sets on one hot key can still
    // make the search exponential (see KvModel.simplifyPending).
    Params oneKey = new Params(10, 1, 5_000, 2, 10, 0.02, 0.0);
    Result r =
        LinearizabilityChecker.check(
            KvModel.INSTANCE, RegisterHistoryGenerator.history(42, oneKey));
    System.out.println("[lincheck perf] 5000 ops/1 key/10 clients: " + r);
    assertThat(r.verdict()).isNotEqualTo(Verdict.UNKNOWN);
    assertThat(r.verdict()).isEqualTo(Verdict.LINEARIZABLE);
  }
}

package dev.kubelite.store.lincheck;

import static dev.kubelite.store.lincheck.KvModel.FAIL;
import static dev.kubelite.store.lincheck.KvModel.OK;
import static dev.kubelite.store.lincheck.KvModel.OK_INFERRED;
import static dev.kubelite.store.lincheck.KvModel.cas;
import static dev.kubelite.store.lincheck.KvModel.get;
import static dev.kubelite.store.lincheck.KvModel.put;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.lincheck.KvModel.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvModelTest {

  private final KvModel model = KvModel.INSTANCE;

  @Test
  void putGetAndCasSemantics() {
    Value absent = model.init();
    Value a = new Value("a");
    assertThat(absent).isEqualTo(Value.ABSENT);
    assertThat(model.step(absent, put("k", "a"), OK)).contains(a);
    assertThat(model.step(absent, put("k", "a"), "nope")).isEmpty();
    assertThat(model.step(absent, get("k"), null)).contains(absent);
    assertThat(model.step(absent, get("k"), "a")).isEmpty();
    assertThat(model.step(a, get("k"), "a")).contains(a);
    assertThat(model.step(a, cas("k", "a", "b"), OK)).contains(new Value("b"));
    assertThat(model.step(a, cas("k", "a", "b"), FAIL)).isEmpty();
    assertThat(model.step(a, cas("k", "z", "b"), FAIL)).contains(a);
    assertThat(model.step(a, cas("k", "z", "b"), OK)).isEmpty();
    assertThat(model.step(absent, cas("k", null, "b"), OK)).contains(new Value("b"));
    assertThat(model.step(absent, put("k", "a"), OK_INFERRED)).contains(a);
  }

  @Test
  void pendingOperationsTakeEffectWhateverTheyWouldHaveAnswered() {
    Value a = new Value("a");
    assertThat(model.stepPending(Value.ABSENT, put("k", "a"))).contains(a);
    assertThat(model.stepPending(a, get("k"))).contains(a);
    assertThat(model.stepPending(a, cas("k", "a", "b"))).contains(new Value("b"));
    assertThat(model.stepPending(a, cas("k", "z", "b"))).contains(a);
  }

  @Test
  void readOnlyOperations() {
    assertThat(model.isReadOnly(get("k"), "a")).isTrue();
    assertThat(model.isReadOnly(cas("k", "a", "b"), FAIL)).isTrue();
    assertThat(model.isReadOnly(cas("k", "a", "b"), OK)).isFalse();
    assertThat(model.isReadOnly(put("k", "a"), OK)).isFalse();
  }

  @Test
  void partitionsByKeyInFirstSeenOrder() {
    List<Operation<KvModel.Input, String>> history =
        List.of(
            Operation.of(0, put("y", "1"), OK, 0, 1),
            Operation.of(1, put("x", "2"), OK, 0, 1),
            Operation.of(0, get("y"), "1", 2, 3));
    List<List<Operation<KvModel.Input, String>>> parts = model.partition(history);
    assertThat(parts).hasSize(2);
    assertThat(parts.get(0)).containsExactly(history.get(0), history.get(2));
    assertThat(parts.get(1)).containsExactly(history.get(1));
    assertThat(model.describePartition(parts.get(0))).isEqualTo("key \"y\"");
  }

  @Test
  void pendingOperationsAreSimplified() {
    var pendingGet = Operation.<KvModel.Input, String>pending(0, get("k"), 0);
    var unobservedPut = Operation.<KvModel.Input, String>pending(1, put("k", "lost"), 0);
    var observedPut = Operation.<KvModel.Input, String>pending(2, put("k", "seen"), 1);
    var reader1 = Operation.<KvModel.Input, String>of(3, get("k"), "seen", 5, 9);
    var reader2 = Operation.<KvModel.Input, String>of(3, get("k"), "seen", 10, 12);
    List<Operation<KvModel.Input, String>> part =
        model.partition(List.of(pendingGet, unobservedPut, observedPut, reader1, reader2)).get(0);
    assertThat(part)
        .containsExactly(Operation.of(2, put("k", "seen"), OK_INFERRED, 1, 9), reader1, reader2);
  }

  @Test
  void pendingWritesAreKeptWhenTheyMightMatter() {
    // The value is written twice, so the observer does not pin down which write it saw.
    var pendingDup = Operation.<KvModel.Input, String>pending(0, put("k", "v"), 0);
    var completedDup = Operation.<KvModel.Input, String>of(1, put("k", "v"), OK, 0, 1);
    var reader = Operation.<KvModel.Input, String>of(2, get("k"), "v", 5, 6);
    assertThat(model.partition(List.of(pendingDup, completedDup, reader)).get(0))
        .contains(pendingDup);
    // An unobserved write could explain a later failed cas.
    var unobserved = Operation.<KvModel.Input, String>pending(0, put("k", "u"), 0);
    var failedCas = Operation.<KvModel.Input, String>of(1, cas("k", null, "w"), FAIL, 3, 4);
    assertThat(model.partition(List.of(unobserved, failedCas)).get(0)).contains(unobserved);
    assertThat(LinearizabilityChecker.check(model, List.of(unobserved, failedCas)).verdict())
        .isEqualTo(LinearizabilityChecker.Verdict.LINEARIZABLE);
    // ... but not one that failed before the write was called.
    var earlierFailedCas = Operation.<KvModel.Input, String>of(1, cas("k", "q", "w"), FAIL, 0, 1);
    var lateUnobserved = Operation.<KvModel.Input, String>pending(0, put("k", "u"), 3);
    assertThat(model.partition(List.of(earlierFailedCas, lateUnobserved)).get(0))
        .containsExactly(earlierFailedCas);
  }

  @Test
  void describesOperationsReadably() {
    assertThat(model.describe(put("k", "v"), OK)).isEqualTo("put(\"k\", \"v\") -> ok");
    assertThat(model.describe(get("k"), null)).isEqualTo("get(\"k\") -> absent");
    assertThat(model.describe(get("k"), "v")).isEqualTo("get(\"k\") -> \"v\"");
    assertThat(model.describe(cas("k", null, "v"), FAIL))
        .isEqualTo("cas(\"k\", absent, \"v\") -> fail");
    assertThat(model.describeState(Value.ABSENT)).isEqualTo("absent");
  }
}

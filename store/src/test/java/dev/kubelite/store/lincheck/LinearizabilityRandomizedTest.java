package dev.kubelite.store.lincheck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.lincheck.LinearizabilityChecker.Result;
import dev.kubelite.store.lincheck.LinearizabilityChecker.Verdict;
import dev.kubelite.store.lincheck.RegisterHistoryGenerator.Params;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearizabilityRandomizedTest {

  private static final Params SMALL = new Params(4, 2, 60, 3, 8, 0.05, 0.1);
  private static final Params CONTENDED = new Params(8, 1, 200, 2, 12, 0.05, 0.1);
  private static final Params NO_PENDING_NO_CAS = new Params(5, 3, 150, 3, 8, 0.0, 0.0);

  private static Result check(List<Operation<KvModel.Input, String>> history) {
    return LinearizabilityChecker.check(KvModel.INSTANCE, history);
  }

  @Test
  void atomicRegisterHistoriesAreLinearizable() {
    for (Params params : List.of(SMALL, CONTENDED, NO_PENDING_NO_CAS)) {
      for (long seed = 0; seed < 300; seed++) {
        Result r = check(RegisterHistoryGenerator.history(seed, params));
        assertThat(r.verdict())
            .as("seed %d, %s: %s", seed, params, r)
            .isEqualTo(Verdict.LINEARIZABLE);
      }
    }
  }

  @Test
  void readOfAValueNeverWrittenIsNotLinearizable() {
    int mutated = 0;
    for (Params params : List.of(SMALL, CONTENDED, NO_PENDING_NO_CAS)) {
      for (long seed = 0; seed < 300; seed++) {
        List<Operation<KvModel.Input, String>> history =
            new ArrayList<>(RegisterHistoryGenerator.history(seed, params));
        List<Integer> reads = completedReads(history);
        if (reads.isEmpty()) {
          continue;
        }
        int victim = reads.get(new SplittableRandom(seed).nextInt(reads.size()));
        history.set(victim, withOutput(history.get(victim), "never-written"));
        Result r = check(history);
        assertThat(r.verdict())
            .as("seed %d, %s: %s", seed, params, r)
            .isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(r.explanation()).contains("never-written");
        mutated++;
      }
    }
    assertThat(mutated).isGreaterThan(800);
  }

  @Test
  void readOfAValueOverwrittenBeforeTheReadStartedIsNotLinearizable() {
    int mutated = 0;
    for (Params params : List.of(SMALL, CONTENDED, NO_PENDING_NO_CAS)) {
      for (long seed = 0; seed < 300; seed++) {
        List<Operation<KvModel.Input, String>> history =
            new ArrayList<>(RegisterHistoryGenerator.history(seed, params));
        SplittableRandom rnd = new SplittableRandom(seed * 31 + 7);
        List<Integer> reads = completedReads(history);
        // Try reads in random order until one has a value that was provably overwritten.
        for (int attempt = 0; attempt < reads.size(); attempt++) {
          int g = reads.get(rnd.nextInt(reads.size()));
          String stale = provablyOverwrittenValue(history, g);
          if (stale == null) {
            continue;
          }
          history.set(g, withOutput(history.get(g), stale));
          Result r = check(history);
          assertThat(r.verdict())
              .as("seed %d, %s, read %d -> %s: %s", seed, params, g, stale, r)
              .isEqualTo(Verdict.NOT_LINEARIZABLE);
          mutated++;
          break;
        }
      }
    }
    assertThat(mutated).isGreaterThan(600);
  }

  /**
   * A value {@code w} written by a completed put P1 on the read's key such that another completed
   * put P2 of a different value on that key was called after P1 returned and returned before the
   * read was called (strictly, under the closed-interval convention). Values are unique, so the
   * read cannot see {@code w}. Null if there is none.
   */
  private static String provablyOverwrittenValue(
      List<Operation<KvModel.Input, String>> history, int readIndex) {
    Operation<KvModel.Input, String> read = history.get(readIndex);
    String key = read.input().key();
    for (Operation<KvModel.Input, String> p1 : history) {
      if (p1.isPending() || !(p1.input() instanceof KvModel.Put put1) || !put1.key().equals(key)) {
        continue;
      }
      if (put1.value().equals(read.output())) {
        continue;
      }
      for (Operation<KvModel.Input, String> p2 : history) {
        if (!p2.isPending()
            && p2.input() instanceof KvModel.Put put2
            && put2.key().equals(key)
            && p1.returnTime() < p2.callTime()
            && p2.returnTime() < read.callTime()) {
          return put1.value();
        }
      }
    }
    return null;
  }

  private static List<Integer> completedReads(List<Operation<KvModel.Input, String>> history) {
    List<Integer> reads = new ArrayList<>();
    for (int i = 0; i < history.size(); i++) {
      Operation<KvModel.Input, String> op = history.get(i);
      if (!op.isPending() && op.input() instanceof KvModel.Get) {
        reads.add(i);
      }
    }
    return reads;
  }

  private static Operation<KvModel.Input, String> withOutput(
      Operation<KvModel.Input, String> op, String output) {
    return Operation.of(op.clientId(), op.input(), output, op.callTime(), op.returnTime());
  }

  // ---- Differential test against a brute-force oracle on tiny, arbitrary histories ----

  @Test
  void agreesWithBruteForceOnTinyArbitraryHistories() {
    int linearizable = 0;
    int notLinearizable = 0;
    for (long seed = 0; seed < 4000; seed++) {
      List<Operation<KvModel.Input, String>> history = arbitraryHistory(new SplittableRandom(seed));
      boolean expected = bruteForceLinearizable(history);
      Result r = check(history);
      assertThat(r.verdict())
          .as("seed %d: %s\n%s", seed, history, r)
          .isEqualTo(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE);
      if (expected) {
        linearizable++;
      } else {
        notLinearizable++;
      }
    }
    // Both verdicts are well represented.
    assertThat(linearizable).isGreaterThan(500);
    assertThat(notLinearizable).isGreaterThan(500);
  }

  /** Up to 7 ops on 1-2 keys with values from a tiny domain and outputs chosen at random. */
  private static List<Operation<KvModel.Input, String>> arbitraryHistory(SplittableRandom rnd) {
    String[] values = {"a", "b"};
    int n = 1 + rnd.nextInt(7);
    int keys = 1 + rnd.nextInt(2);
    List<Operation<KvModel.Input, String>> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String key = "k" + rnd.nextInt(keys);
      long call = rnd.nextInt(10);
      long ret = call + rnd.nextInt(5);
      int kind = rnd.nextInt(10);
      KvModel.Input input;
      String output;
      if (kind < 4) {
        input = KvModel.put(key, values[rnd.nextInt(2)]);
        output = KvModel.OK;
      } else if (kind < 8) {
        input = KvModel.get(key);
        int v = rnd.nextInt(3);
        output = v == 2 ? null : values[v];
      } else {
        int e = rnd.nextInt(3);
        input = KvModel.cas(key, e == 2 ? null : values[e], values[rnd.nextInt(2)]);
        output = rnd.nextBoolean() ? KvModel.OK : KvModel.FAIL;
      }
      ops.add(
          rnd.nextInt(6) == 0
              ? Operation.pending(i, input, call)
              : Operation.of(i, input, output, call, ret));
    }
    return ops;
  }

  /**
   * Tries every subset of pending operations and every order of the chosen operations that respects
   * real time ({@code a.returnTime < b.callTime} puts a first), against a whole-map state, without
   * partitioning.
   */
  static boolean bruteForceLinearizable(List<Operation<KvModel.Input, String>> history) {
    int n = history.size();
    List<Integer> pendingIdx = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (history.get(i).isPending()) {
        pendingIdx.add(i);
      }
    }
    for (int mask = 0; mask < (1 << pendingIdx.size()); mask++) {
      boolean[] include = new boolean[n];
      for (int i = 0; i < n; i++) {
        include[i] = !history.get(i).isPending();
      }
      for (int b = 0; b < pendingIdx.size(); b++) {
        if ((mask & (1 << b)) != 0) {
          include[pendingIdx.get(b)] = true;
        }
      }
      if (permute(history, include, new boolean[n], new HashMap<>())) {
        return true;
      }
    }
    return false;
  }

  private static boolean permute(
      List<Operation<KvModel.Input, String>> h,
      boolean[] include,
      boolean[] used,
      Map<String, String> store) {
    boolean all = true;
    for (int i = 0; i < h.size(); i++) {
      if (!include[i] || used[i]) {
        continue;
      }
      all = false;
      // i may go next only if no other remaining op returned strictly before i was called.
      boolean minimal = true;
      for (int j = 0; j < h.size(); j++) {
        if (j != i && include[j] && !used[j] && h.get(j).returnTime() < h.get(i).callTime()) {
          minimal = false;
          break;
        }
      }
      if (!minimal) {
        continue;
      }
      Map<String, String> next = apply(store, h.get(i));
      if (next == null) {
        continue;
      }
      used[i] = true;
      boolean ok = permute(h, include, used, next);
      used[i] = false;
      if (ok) {
        return true;
      }
    }
    return all;
  }

  /** Sequential key-value semantics written independently of KvModel; null if illegal. */
  private static Map<String, String> apply(
      Map<String, String> store, Operation<KvModel.Input, String> op) {
    Map<String, String> next = new HashMap<>(store);
    String key = op.input().key();
    String current = store.get(key);
    boolean known = !op.isPending();
    if (op.input() instanceof KvModel.Put put) {
      if (known && !KvModel.OK.equals(op.output())) {
        return null;
      }
      next.put(key, put.value());
    } else if (op.input() instanceof KvModel.Get) {
      if (known && !Objects.equals(current, op.output())) {
        return null;
      }
    } else {
      KvModel.Cas cas = (KvModel.Cas) op.input();
      boolean swap = Objects.equals(current, cas.expected());
      if (known && !(swap ? KvModel.OK : KvModel.FAIL).equals(op.output())) {
        return null;
      }
      if (swap) {
        next.put(key, cas.value());
      }
    }
    return next;
  }
}

package dev.kubelite.store.lincheck;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates histories of a true atomic key-value store: every operation takes effect at one instant
 * inside its {@code [call, return]} interval (a pending one at some instant after its call, or
 * never), so every generated history is linearizable by construction. Put and cas values are
 * unique.
 */
final class RegisterHistoryGenerator {

  /** Generation parameters. */
  record Params(
      int clients,
      int keys,
      int ops,
      int maxThink,
      int maxDuration,
      double pendingProbability,
      double casProbability) {}

  /** One generated operation together with the instant it took effect (-1: never). */
  record Generated(Operation<KvModel.Input, String> op, long effectAt) {}

  private RegisterHistoryGenerator() {}

  static List<Operation<KvModel.Input, String>> history(long seed, Params p) {
    List<Operation<KvModel.Input, String>> ops = new ArrayList<>();
    for (Generated g : generate(seed, p)) {
      ops.add(g.op());
    }
    return ops;
  }

  static List<Generated> generate(long seed, Params p) {
    SplittableRandom rnd = new SplittableRandom(seed);
    long[] clientClock = new long[p.clients()];
    Map<String, String> lastWrittenGuess = new HashMap<>();

    // First draw every operation's interval and effect instant, then compute outputs by applying
    // the operations in effect order.
    record Draft(
        int client, KvModel.Input input, long call, long ret, boolean pending, long effectAt) {}
    List<Draft> drafts = new ArrayList<>(p.ops());
    int valueCounter = 0;
    for (int i = 0; i < p.ops(); i++) {
      int client = rnd.nextInt(p.clients());
      long call = clientClock[client] + rnd.nextInt(p.maxThink() + 1);
      long duration = rnd.nextInt(p.maxDuration() + 1);
      long ret = call + duration;
      String key = "k" + rnd.nextInt(p.keys());
      double dice = rnd.nextDouble();
      KvModel.Input input;
      if (dice < p.casProbability()) {
        String value = "v" + valueCounter++;
        input = KvModel.cas(key, lastWrittenGuess.get(key), value);
        lastWrittenGuess.put(key, value);
      } else if (dice < p.casProbability() + (1 - p.casProbability()) * 0.45) {
        String value = "v" + valueCounter++;
        input = KvModel.put(key, value);
        lastWrittenGuess.put(key, value);
      } else {
        input = KvModel.get(key);
      }
      boolean pending = rnd.nextDouble() < p.pendingProbability();
      long effectAt;
      if (pending) {
        // Took effect within its timeout, much later, or never.
        double fate = rnd.nextDouble();
        if (fate < 0.3) {
          effectAt = -1;
        } else if (fate < 0.7) {
          effectAt = call + rnd.nextInt(p.maxDuration() + 1);
        } else {
          effectAt = call + rnd.nextInt(20 * (p.maxDuration() + 1));
        }
        clientClock[client] = call + p.maxDuration() + 1; // the client times out, then moves on
      } else {
        effectAt = call + (duration == 0 ? 0 : rnd.nextLong(duration + 1));
        clientClock[client] = ret;
      }
      drafts.add(new Draft(client, input, call, ret, pending, effectAt));
    }

    Integer[] order = new Integer[drafts.size()];
    long[] tieBreak = new long[drafts.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
      tieBreak[i] = rnd.nextLong();
    }
    java.util.Arrays.sort(
        order,
        Comparator.<Integer>comparingLong(i -> drafts.get(i).effectAt())
            .thenComparingLong(i -> tieBreak[i]));
    String[] outputs = new String[drafts.size()];
    Map<String, String> store = new HashMap<>();
    for (int i : order) {
      Draft d = drafts.get(i);
      if (d.effectAt() < 0) {
        continue;
      }
      KvModel.Input in = d.input();
      String current = store.get(in.key());
      if (in instanceof KvModel.Put put) {
        store.put(put.key(), put.value());
        outputs[i] = KvModel.OK;
      } else if (in instanceof KvModel.Get) {
        outputs[i] = current;
      } else {
        KvModel.Cas cas = (KvModel.Cas) in;
        if (java.util.Objects.equals(current, cas.expected())) {
          store.put(cas.key(), cas.value());
          outputs[i] = KvModel.OK;
        } else {
          outputs[i] = KvModel.FAIL;
        }
      }
    }
    List<Generated> result = new ArrayList<>(drafts.size());
    for (int i = 0; i < drafts.size(); i++) {
      Draft d = drafts.get(i);
      Operation<KvModel.Input, String> op =
          d.pending()
              ? Operation.pending(d.client(), d.input(), d.call())
              : Operation.of(d.client(), d.input(), outputs[i], d.call(), d.ret());
      result.add(new Generated(op, d.effectAt()));
    }
    return result;
  }
}

package dev.kubelite.store.raft.sim;

import dev.kubelite.store.lincheck.KvModel;
import dev.kubelite.store.lincheck.LinearizabilityChecker;
import dev.kubelite.store.lincheck.Operation;
import java.util.ArrayList;
import java.util.List;

/** Checks a simulation's client history against a key-value register. */
final class HistoryCheck {
  private HistoryCheck() {}

  /** Null if the history is linearizable; otherwise why not (or that the checker gave up). */
  static String check(List<HistoryEvent> events) {
    List<Operation<KvModel.Input, String>> ops = new ArrayList<>(events.size());
    for (HistoryEvent e : events) {
      KvModel.Input input = e.write() ? KvModel.put(e.key(), e.value()) : KvModel.get(e.key());
      if (e.returnTime() == Long.MAX_VALUE) {
        ops.add(Operation.pending(e.client(), input, e.callTime()));
      } else {
        String output = e.write() ? KvModel.OK : e.value();
        ops.add(Operation.of(e.client(), input, output, e.callTime(), e.returnTime()));
      }
    }
    LinearizabilityChecker.Result result = LinearizabilityChecker.check(KvModel.INSTANCE, ops);
    return result.isLinearizable() ? null : result.toString();
  }
}

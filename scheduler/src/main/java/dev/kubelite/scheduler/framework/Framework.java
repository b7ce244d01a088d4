package dev.kubelite.scheduler.framework;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One scheduling decision: run the filter plugins over the nodes (in order, a node's first failing
 * plugin rules it out), score the feasible nodes with the score plugins (weighted sum of 0–100
 * scores) and pick the highest total; ties are broken at random (kube-scheduler's reservoir
 * sampling). Not thread-safe: one scheduling loop uses it.
 *
 * <p>Like kube-scheduler, in large clusters it stops filtering once it has found enough feasible
 * nodes ({@link #feasibleNodesToFind}), starting each cycle where the last one stopped so every
 * node gets its turn.
 */
public final class Framework {
  private final List<FilterPlugin> filters;
  private final List<ScorePlugin> scorers;
  private final Random random;
  private int nextStartIndex;

  /**
   * The outcome of one cycle.
   *
   * @param node the chosen node, or null if none fits
   * @param score the chosen node's total score
   * @param scores the chosen node's score per plugin (before weights)
   * @param feasible how many nodes passed the filters
   * @param evaluated how many nodes were filtered
   * @param allNodes how many nodes there are
   * @param failure the FailedScheduling message when {@code node} is null
   */
  public record Decision(
      String node,
      long score,
      Map<String, Long> scores,
      int feasible,
      int evaluated,
      int allNodes,
      String failure) {}

  public Framework(List<FilterPlugin> filters, List<ScorePlugin> scorers, Random random) {
    this.filters = List.copyOf(filters);
    this.scorers = List.copyOf(scorers);
    this.random = random;
  }

  public List<FilterPlugin> filters() {
    return filters;
  }

  public List<ScorePlugin> scorers() {
    return scorers;
  }

  /**
   * kube-scheduler's adaptive percentageOfNodesToScore: all nodes below 100; otherwise {@code 50 -
   * nodes/125} percent (at least 5 %), but never fewer than 100 nodes.
   */
  public static int feasibleNodesToFind(int allNodes) {
    if (allNodes < 100) {
      return allNodes;
    }
    int percentage = Math.max(5, 50 - allNodes / 125);
    return Math.max(100, allNodes * percentage / 100);
  }

  /** The first failing filter's reasons, or an empty list if the pod fits the node. */
  public List<String> filter(PodInfo pod, NodeInfo node) {
    for (int i = 0; i < filters.size(); i++) {
      List<String> reasons = filters.get(i).filter(pod, node);
      if (!reasons.isEmpty()) {
        return reasons;
      }
    }
    return FilterPlugin.FITS;
  }

  public Decision schedule(PodInfo pod, List<NodeInfo> nodes) {
    int all = nodes.size();
    if (all == 0) {
      return new Decision(null, 0, Map.of(), 0, 0, 0, FitError.NO_NODES);
    }
    int want = feasibleNodesToFind(all);
    List<NodeInfo> feasible = new ArrayList<>(Math.min(want, all));
    Map<String, List<String>> reasons = new LinkedHashMap<>();
    int start = nextStartIndex % all;
    int evaluated = 0;
    for (int i = 0; i < all && feasible.size() < want; i++) {
      NodeInfo n = nodes.get((start + i) % all);
      evaluated++;
      List<String> why = filter(pod, n);
      if (why.isEmpty()) {
        feasible.add(n);
      } else {
        reasons.put(n.name(), why);
      }
    }
    nextStartIndex = (start + evaluated) % all;
    if (feasible.isEmpty()) {
      return new Decision(null, 0, Map.of(), 0, evaluated, all, FitError.message(all, reasons));
    }
    long[][] perPlugin = new long[scorers.size()][];
    for (int s = 0; s < scorers.size(); s++) {
      ScorePlugin p = scorers.get(s);
      long[] raw = new long[feasible.size()];
      for (int i = 0; i < raw.length; i++) {
        raw[i] = p.score(pod, feasible.get(i));
      }
      p.normalize(pod, feasible, raw);
      perPlugin[s] = raw;
    }
    int best = -1;
    long bestScore = Long.MIN_VALUE;
    int ties = 0;
    for (int i = 0; i < feasible.size(); i++) {
      long total = 0;
      for (int s = 0; s < scorers.size(); s++) {
        total += scorers.get(s).weight() * perPlugin[s][i];
      }
      if (total > bestScore) {
        bestScore = total;
        best = i;
        ties = 1;
      } else if (total == bestScore) {
        ties++;
        if (random.nextInt(ties) == 0) {
          best = i;
        }
      }
    }
    Map<String, Long> breakdown = new LinkedHashMap<>();
    for (int s = 0; s < scorers.size(); s++) {
      breakdown.put(scorers.get(s).name(), perPlugin[s][best]);
    }
    return new Decision(
        feasible.get(best).name(), bestScore, breakdown, feasible.size(), evaluated, all, null);
  }
}

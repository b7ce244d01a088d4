package dev.kubelite.scheduler.framework;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Why a pod fits no node, worded as kube-scheduler words it: {@code 0/3 nodes are available: 2
 * Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.} — each
 * reason with the number of nodes that gave it, the "count reason" strings sorted as strings (as
 * kube-scheduler sorts them, so "10 …" comes before "2 …").
 */
public final class FitError {
  private FitError() {}

  /** kube-scheduler's message when the cluster has no nodes at all. */
  public static final String NO_NODES = "no nodes available to schedule pods";

  /**
   * @param allNodes how many nodes were considered
   * @param reasonsByNode each failing node's reasons
   */
  public static String message(int allNodes, Map<String, List<String>> reasonsByNode) {
    if (allNodes == 0) {
      return NO_NODES;
    }
    Map<String, Integer> counts = new TreeMap<>();
    for (List<String> reasons : reasonsByNode.values()) {
      for (String r : reasons) {
        counts.merge(r, 1, Integer::sum);
      }
    }
    List<String> parts = new ArrayList<>();
    counts.forEach((reason, n) -> parts.add(n + " " + reason));
    parts.sort(null);
    StringBuilder b = new StringBuilder("0/").append(allNodes).append(" nodes are available:");
    if (!parts.isEmpty()) {
      b.append(' ').append(String.join(", ", parts)).append('.');
    }
    return b.toString();
  }
}

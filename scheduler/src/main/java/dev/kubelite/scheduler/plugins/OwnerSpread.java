package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import dev.kubelite.scheduler.framework.ScorePlugin;
import java.util.List;

/**
 * Score: spreads the pods of one controller (the {@code ownerReferences} entry with {@code
 * controller: true}, e.g. a ReplicaSet) over the nodes, in the manner of kube-scheduler's former
 * SelectorSpread: a node's raw score is how many of the owner's pods it already runs (bound or
 * assumed); normalized, the node with the most gets 0 and a node with none gets 100 ({@code 100 *
 * (max - count) / max}). Pods without a controller score 100 everywhere.
 */
public final class OwnerSpread implements ScorePlugin {
  @Override
  public String name() {
    return "OwnerSpread";
  }

  @Override
  public int weight() {
    return 2;
  }

  @Override
  public long score(PodInfo pod, NodeInfo node) {
    return pod.controllerUid() == null ? 0 : node.podsOfController(pod.controllerUid());
  }

  @Override
  public void normalize(PodInfo pod, List<NodeInfo> nodes, long[] scores) {
    long max = 0;
    for (long s : scores) {
      max = Math.max(max, s);
    }
    for (int i = 0; i < scores.length; i++) {
      scores[i] = max == 0 ? MAX_SCORE : MAX_SCORE * (max - scores[i]) / max;
    }
  }
}

package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import dev.kubelite.scheduler.framework.Resources;
import dev.kubelite.scheduler.framework.ScorePlugin;

/**
 * Score (kube-scheduler's NodeResourcesBalancedAllocation): prefers the node whose cpu and memory
 * would be used in the most equal proportion after placing the pod — the fractions {@code requested
 * / allocatable} (at most 1), their standard deviation (for two resources, half their difference),
 * score {@code (1 - deviation) * 100}.
 */
public final class BalancedAllocation implements ScorePlugin {
  @Override
  public String name() {
    return "BalancedAllocation";
  }

  @Override
  public int weight() {
    return 1;
  }

  @Override
  public long score(PodInfo pod, NodeInfo node) {
    Resources pods = pod.nonZeroRequests();
    double cpu =
        fraction(node.nonZeroRequestedMilliCpu() + pods.milliCpu(), node.allocatableMilliCpu());
    double mem = fraction(node.nonZeroRequestedMemory() + pods.memory(), node.allocatableMemory());
    double deviation = Math.abs(cpu - mem) / 2;
    return (long) ((1 - deviation) * MAX_SCORE);
  }

  private static double fraction(long requested, long allocatable) {
    if (allocatable <= 0) {
      return 1;
    }
    return Math.min(1.0, (double) requested / allocatable);
  }
}

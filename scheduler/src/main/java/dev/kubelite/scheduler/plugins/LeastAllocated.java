package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import dev.kubelite.scheduler.framework.Resources;
import dev.kubelite.scheduler.framework.ScorePlugin;

/**
 * Score (kube-scheduler's NodeResourcesFit with the LeastAllocated strategy): prefers the node with
 * the most room left after placing the pod — per resource {@code (allocatable - requested) * 100 /
 * allocatable} with the pod's non-zero requests added, then the average of cpu and memory.
 */
public final class LeastAllocated implements ScorePlugin {
  @Override
  public String name() {
    return "LeastAllocated";
  }

  @Override
  public int weight() {
    return 1;
  }

  @Override
  public long score(PodInfo pod, NodeInfo node) {
    Resources pods = pod.nonZeroRequests();
    return (free(node.nonZeroRequestedMilliCpu() + pods.milliCpu(), node.allocatableMilliCpu())
            + free(node.nonZeroRequestedMemory() + pods.memory(), node.allocatableMemory()))
        / 2;
  }

  private static long free(long requested, long allocatable) {
    if (allocatable <= 0 || requested > allocatable) {
      return 0;
    }
    return (allocatable - requested) * MAX_SCORE / allocatable;
  }
}

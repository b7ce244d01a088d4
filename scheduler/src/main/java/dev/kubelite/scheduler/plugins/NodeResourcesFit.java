package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.FilterPlugin;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import dev.kubelite.scheduler.framework.Resources;
import java.util.ArrayList;
import java.util.List;

/**
 * Filter: the pod's requests must fit into the node's {@code status.allocatable} minus what the
 * pods already on it (bound or assumed) request — one more pod than {@code pods} allows is {@code
 * Too many pods}, then {@code Insufficient cpu} and {@code Insufficient memory} (several reasons
 * may apply at once, each counted).
 */
public final class NodeResourcesFit implements FilterPlugin {
  @Override
  public String name() {
    return "NodeResourcesFit";
  }

  @Override
  public List<String> filter(PodInfo pod, NodeInfo node) {
    Resources want = pod.requests();
    long cpu = want.milliCpu();
    long memory = want.memory();
    if (node.requestedPods() + 1 <= node.allocatablePods()
        && (cpu <= 0 || node.requestedMilliCpu() + cpu <= node.allocatableMilliCpu())
        && (memory <= 0 || node.requestedMemory() + memory <= node.allocatableMemory())) {
      return FITS; // the common case allocates nothing and reads the NodeInfo only
    }
    Resources free = node.allocatable();
    Resources used = node.requested();
    List<String> reasons = new ArrayList<>(2);
    if (used.pods() + 1 > free.pods()) {
      reasons.add("Too many pods");
    }
    if (want.milliCpu() > 0 && used.milliCpu() + want.milliCpu() > free.milliCpu()) {
      reasons.add("Insufficient cpu");
    }
    if (want.memory() > 0 && used.memory() + want.memory() > free.memory()) {
      reasons.add("Insufficient memory");
    }
    return reasons.isEmpty() ? FITS : reasons;
  }
}

package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.FilterPlugin;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.List;

/**
 * Filter: every {@code NoSchedule} and {@code NoExecute} taint of the node must be tolerated by the
 * pod ({@code PreferNoSchedule} is only a preference and is ignored here). The reason names the
 * first untolerated taint: {@code node(s) had untolerated taint {key: value}}.
 */
public final class TaintToleration implements FilterPlugin {
  @Override
  public String name() {
    return "TaintToleration";
  }

  @Override
  public List<String> filter(PodInfo pod, NodeInfo node) {
    List<NodeInfo.Taint> taints = node.facts().hardTaints();
    if (taints.isEmpty()) {
      return FITS; // most nodes: no iterator, no work
    }
    for (NodeInfo.Taint taint : taints) {
      if (!Tolerations.podTolerates(pod.pod(), taint.key(), taint.value(), taint.effect())) {
        return List.of(
            "node(s) had untolerated taint {" + taint.key() + ": " + taint.value() + "}");
      }
    }
    return FITS;
  }
}

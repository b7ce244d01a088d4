package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.FilterPlugin;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Filter: every {@code NoSchedule} and {@code NoExecute} taint of the node must be tolerated by the
 * pod ({@code PreferNoSchedule} is only a preference and is ignored here). The reason names the
 * first untolerated taint: {@code node(s) had untolerated taint {key: value}}.
 */
public final class TaintToleration implements FilterPlugin {
  /**
   * The reason per taint, built once: a tainted node (e.g. not-ready) fails this filter for every
   * pod that looks at it. Bounded by the distinct taints seen; cleared should it grow past 4,096.
   */
  private final Map<NodeInfo.Taint, List<String>> reasons = new ConcurrentHashMap<>();

  private List<String> reason(NodeInfo.Taint taint) {
    List<String> r = reasons.get(taint);
    if (r == null) {
      if (reasons.size() >= 4096) {
        reasons.clear();
      }
      r = List.of("node(s) had untolerated taint {" + taint.key() + ": " + taint.value() + "}");
      reasons.put(taint, r);
    }
    return r;
  }

  @Override
  public String name() {
    return "TaintToleration";
  }

  @Override
  public List<String> filter(PodInfo pod, NodeInfo node) {
    if (!node.tainted()) {
      return FITS; // most nodes: no iterator, no work
    }
    for (NodeInfo.Taint taint : node.facts().hardTaints()) {
      if (!Tolerations.podTolerates(pod.pod(), taint.key(), taint.value(), taint.effect())) {
        return reason(taint);
      }
    }
    return FITS;
  }
}

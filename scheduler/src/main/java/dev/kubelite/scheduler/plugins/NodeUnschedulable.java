package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.FilterPlugin;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.List;

/**
 * Filter: a node with {@code spec.unschedulable: true} (cordoned) takes no new pods, unless the pod
 * tolerates the {@code node.kubernetes.io/unschedulable:NoSchedule} taint, as in Kubernetes.
 */
public final class NodeUnschedulable implements FilterPlugin {
  public static final String TAINT = "node.kubernetes.io/unschedulable";

  @Override
  public String name() {
    return "NodeUnschedulable";
  }

  @Override
  public List<String> filter(PodInfo pod, NodeInfo node) {
    if (node.unschedulable() && !Tolerations.podTolerates(pod.pod(), TAINT, "", "NoSchedule")) {
      return List.of("node(s) were unschedulable");
    }
    return FITS;
  }
}

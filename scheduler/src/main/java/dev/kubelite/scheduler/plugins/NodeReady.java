package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.FilterPlugin;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.List;

/**
 * Filter: the node's {@code Ready} condition must be {@code True}. (Kubernetes reaches the same end
 * through the {@code node.kubernetes.io/not-ready} and {@code unreachable} taints the node
 * lifecycle controller sets; this filter also covers nodes nobody has tainted yet. It runs after
 * TaintToleration, so a tainted node is reported by its taint, as kube-scheduler reports it.)
 */
public final class NodeReady implements FilterPlugin {
  @Override
  public String name() {
    return "NodeReady";
  }

  @Override
  public List<String> filter(PodInfo pod, NodeInfo node) {
    return node.ready() ? FITS : NOT_READY;
  }

  private static final List<String> NOT_READY = List.of("node(s) were not ready");
}

package dev.kubelite.scheduler.plugins;

import com.fasterxml.jackson.databind.JsonNode;
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
    for (JsonNode taint : node.node().path("spec").path("taints")) {
      String effect = taint.path("effect").asText("");
      if (!effect.equals("NoSchedule") && !effect.equals("NoExecute")) {
        continue;
      }
      String key = taint.path("key").asText("");
      String value = taint.path("value").asText("");
      if (!Tolerations.podTolerates(pod.pod(), key, value, effect)) {
        return List.of("node(s) had untolerated taint {" + key + ": " + value + "}");
      }
    }
    return FITS;
  }
}

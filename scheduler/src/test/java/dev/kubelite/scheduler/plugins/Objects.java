package dev.kubelite.scheduler.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Nodes and pods for plugin unit tests, written as JSON (single quotes for readability). */
final class Objects {
  private Objects() {}

  static ObjectNode json(String s) {
    try {
      JsonNode n = KubeClient.JSON.readTree(s.replace('\'', '"'));
      return (ObjectNode) n;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static NodeInfo node(String name, String cpu, String memory, String extra) {
    return NodeInfo.of(
        json(
            "{'metadata':{'name':'"
                + name
                + "','labels':{'kubernetes.io/hostname':'"
                + name
                + "'}},'status':{'allocatable':{'cpu':'"
                + cpu
                + "','memory':'"
                + memory
                + "','pods':'110'},'conditions':[{'type':'Ready','status':'True'}]}"
                + (extra.isEmpty() ? "" : "," + extra)
                + "}"));
  }

  static NodeInfo node(String name, String cpu, String memory) {
    return node(name, cpu, memory, "");
  }

  static PodInfo pod(String name, String cpu, String memory, String specExtra) {
    String requests =
        (cpu == null ? "" : "'cpu':'" + cpu + "'")
            + (cpu != null && memory != null ? "," : "")
            + (memory == null ? "" : "'memory':'" + memory + "'");
    return PodInfo.of(
        json(
            "{'metadata':{'name':'"
                + name
                + "','namespace':'default'},'spec':{'containers':[{'name':'c','resources':{'requests':{"
                + requests
                + "}}}]"
                + (specExtra.isEmpty() ? "" : "," + specExtra)
                + "}}"));
  }

  static PodInfo pod(String name, String cpu, String memory) {
    return pod(name, cpu, memory, "");
  }

  static PodInfo spec(String specExtra) {
    return pod("p", "100m", "64Mi", specExtra);
  }
}

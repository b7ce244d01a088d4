package dev.kubelite.scheduler;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Nodes, pods and queries for scheduler tests, through the real API. */
final class Fixtures {
  private Fixtures() {}

  static final Duration DEADLINE = Duration.ofSeconds(30);

  static ObjectNode json() {
    return KubeClient.JSON.createObjectNode();
  }

  /** A Ready node with the given allocatable cpu/memory and 110 pods; {@code edit} may add more. */
  static ObjectNode node(
      KubeClient c, String name, String cpu, String memory, Consumer<ObjectNode> edit) {
    ObjectNode n = json();
    n.put("apiVersion", "v1").put("kind", "Node");
    n.putObject("metadata")
        .put("name", name)
        .putObject("labels")
        .put("kubernetes.io/hostname", name);
    n.putObject("spec");
    ObjectNode status = n.putObject("status");
    ObjectNode alloc = status.putObject("allocatable");
    alloc.put("cpu", cpu).put("memory", memory).put("pods", "110");
    status.set("capacity", alloc.deepCopy());
    ObjectNode ready = status.putArray("conditions").addObject();
    ready.put("type", "Ready").put("status", "True").put("reason", "KubeletReady");
    if (edit != null) {
      edit.accept(n);
    }
    ObjectNode created = c.create(Resource.NODES, null, n);
    created.set("status", n.get("status"));
    return c.updateStatus(Resource.NODES, created);
  }

  static ObjectNode node(KubeClient c, String name, String cpu, String memory) {
    return node(c, name, cpu, memory, null);
  }

  static ObjectNode taint(ObjectNode node, String key, String value, String effect) {
    JsonNode spec = node.path("spec");
    ArrayNode taints =
        spec.get("taints") instanceof ArrayNode a ? a : ((ObjectNode) spec).putArray("taints");
    ObjectNode t = taints.addObject().put("key", key).put("effect", effect);
    if (value != null) {
      t.put("value", value);
    }
    return node;
  }

  static void label(ObjectNode node, String key, String value) {
    ((ObjectNode) node.path("metadata").path("labels")).put(key, value);
  }

  static void condition(ObjectNode node, String type, String status) {
    for (JsonNode c : node.path("status").path("conditions")) {
      if (c.path("type").asText().equals(type)) {
        ((ObjectNode) c).put("status", status);
      }
    }
  }

  /** A pod in {@code default} with one container requesting cpu/memory (null: no request). */
  static ObjectNode pod(
      KubeClient c, String name, String cpu, String memory, Consumer<ObjectNode> edit) {
    ObjectNode p = json();
    p.put("apiVersion", "v1").put("kind", "Pod");
    p.putObject("metadata").put("name", name).put("namespace", "default");
    ObjectNode container =
        p.putObject("spec")
            .putArray("containers")
            .addObject()
            .put("name", "app")
            .put("image", "nginx");
    ObjectNode requests = container.putObject("resources").putObject("requests");
    if (cpu != null) {
      requests.put("cpu", cpu);
    }
    if (memory != null) {
      requests.put("memory", memory);
    }
    if (edit != null) {
      edit.accept(p);
    }
    return c.create(Resource.PODS, "default", p);
  }

  static ObjectNode pod(KubeClient c, String name, String cpu, String memory) {
    return pod(c, name, cpu, memory, null);
  }

  static ObjectNode toleration(
      ObjectNode pod, String key, String operator, String value, String effect) {
    ObjectNode spec = (ObjectNode) pod.path("spec");
    ArrayNode t = spec.get("tolerations") instanceof ArrayNode a ? a : spec.putArray("tolerations");
    ObjectNode o = t.addObject();
    if (key != null) {
      o.put("key", key);
    }
    o.put("operator", operator);
    if (value != null) {
      o.put("value", value);
    }
    if (effect != null) {
      o.put("effect", effect);
    }
    return pod;
  }

  static String nodeOf(KubeClient c, String pod) {
    return c.get(Resource.PODS, "default", pod).path("spec").path("nodeName").asText("");
  }

  static String awaitBound(KubeClient c, String pod) {
    return await().atMost(DEADLINE).until(() -> nodeOf(c, pod), n -> !n.isEmpty());
  }

  static List<ObjectNode> events(KubeClient c, String pod) {
    ObjectNode list =
        c.list(Resource.EVENTS, "default", ListOptions.fields("involvedObject.name=" + pod));
    List<ObjectNode> out = new ArrayList<>();
    list.path("items").forEach(e -> out.add((ObjectNode) e));
    return out;
  }

  /** The message of the pod's event with this reason, once there is one. */
  static String awaitEvent(KubeClient c, String pod, String reason) {
    return await()
        .atMost(DEADLINE)
        .until(
            () ->
                events(c, pod).stream()
                    .filter(e -> e.path("reason").asText().equals(reason))
                    .map(e -> e.path("message").asText())
                    .findFirst()
                    .orElse(null),
            m -> m != null);
  }

  static Map<String, String> ownerRef(String kind, String name, String uid) {
    return Map.of("kind", kind, "name", name, "uid", uid);
  }
}

package dev.kubelite.scheduler.cache;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Meta;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the scheduler knows of the nodes and the pods on them, fed by the node and pod informers —
 * plus the pods it has <i>assumed</i>: at bind time a pod is put on its chosen node here at once,
 * before the API server has answered, so the next decision already counts its requests and back
 * -to-back decisions cannot overcommit a node. The assumption is {@link #forget forgotten} if the
 * binding fails and {@link #addPod confirmed} when the pod informer shows the pod bound.
 * Thread-safe; {@link #snapshot()} is cheap (the NodeInfos are immutable).
 */
public final class SchedulerCache {
  private final Map<String, NodeInfo> nodes = new LinkedHashMap<>();
  private final Map<String, PodState> pods = new HashMap<>();

  private record PodState(PodInfo pod, String node, boolean assumed) {}

  public synchronized void addNode(ObjectNode node) {
    String name = Meta.name(node);
    NodeInfo existing = nodes.get(name);
    nodes.put(name, existing == null ? NodeInfo.of(node) : existing.withNode(node));
  }

  public synchronized void updateNode(ObjectNode node) {
    addNode(node);
  }

  /** The node is gone; its pods stay counted until the pod informer removes them. */
  public synchronized void removeNode(String name) {
    NodeInfo existing = nodes.get(name);
    if (existing == null) {
      return;
    }
    if (existing.podCount() == 0) {
      nodes.remove(name);
    } else {
      nodes.put(name, existing.withNode(null));
    }
  }

  /** Puts {@code pod} on {@code node} before the binding is written. */
  public synchronized void assume(PodInfo pod, String node) {
    removeFromNode(pod.key());
    pods.put(pod.key(), new PodState(pod, node, true));
    nodes.put(node, nodeOrPlaceholder(node).withPod(pod));
  }

  /** The binding failed: take back the assumption (a confirmed pod stays). */
  public synchronized void forget(String podKey) {
    PodState s = pods.get(podKey);
    if (s != null && s.assumed) {
      removeFromNode(podKey);
      pods.remove(podKey);
    }
  }

  public synchronized boolean isAssumed(String podKey) {
    PodState s = pods.get(podKey);
    return s != null && s.assumed;
  }

  /** Whether the pod is counted on a node, assumed or bound. */
  public synchronized boolean hasPod(String podKey) {
    return pods.containsKey(podKey);
  }

  /**
   * A bound pod seen by the informer (added or updated): counted on its node; confirms an
   * assumption (on the node the API server holds, should it differ).
   */
  public synchronized void addPod(PodInfo pod) {
    String node = pod.nodeName();
    if (node == null) {
      return;
    }
    removeFromNode(pod.key());
    pods.put(pod.key(), new PodState(pod, node, false));
    nodes.put(node, nodeOrPlaceholder(node).withPod(pod));
  }

  public synchronized void removePod(String podKey) {
    removeFromNode(podKey);
    pods.remove(podKey);
  }

  /** The nodes as they are now (placeholders for unknown nodes left out). */
  public synchronized List<NodeInfo> snapshot() {
    List<NodeInfo> out = new ArrayList<>(nodes.size());
    for (NodeInfo n : nodes.values()) {
      if (n.node() != null) {
        out.add(n);
      }
    }
    return out;
  }

  public synchronized NodeInfo node(String name) {
    return nodes.get(name);
  }

  private NodeInfo nodeOrPlaceholder(String name) {
    NodeInfo n = nodes.get(name);
    return n == null ? NodeInfo.placeholder(name) : n;
  }

  private void removeFromNode(String podKey) {
    PodState s = pods.get(podKey);
    if (s == null) {
      return;
    }
    NodeInfo n = nodes.get(s.node);
    if (n == null) {
      return;
    }
    NodeInfo without = n.withoutPod(podKey);
    if (without.node() == null && without.podCount() == 0) {
      nodes.remove(s.node);
    } else {
      nodes.put(s.node, without);
    }
  }
}

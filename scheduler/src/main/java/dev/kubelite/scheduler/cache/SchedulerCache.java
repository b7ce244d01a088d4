package dev.kubelite.scheduler.cache;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Meta;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the scheduler knows of the nodes and the pods on them, fed by the node and pod informers —
 * plus the pods it has <i>assumed</i>: at bind time a pod is put on its chosen node here at once,
 * before the API server has answered, so the next decision already counts its requests and back
 * -to-back decisions cannot overcommit a node. The assumption is {@link #forget forgotten} if the
 * binding fails and {@link #addPod confirmed} when the pod informer shows the pod bound.
 * Thread-safe; {@link #snapshot()} copies references only (the NodeInfos are immutable), and {@link
 * #updateSnapshot} brings a scheduling loop's {@link Snapshot} up to date by replacing only the
 * nodes changed since its last update, as kube-scheduler's UpdateSnapshot does: a scheduling cycle
 * does not pay for the cluster's size to see the previous cycle's assumption.
 */
public final class SchedulerCache {
  private final Map<String, NodeInfo> nodes = new LinkedHashMap<>();
  private final Map<String, PodState> pods = new HashMap<>();

  /** Nodes changed since the last {@link #updateSnapshot}; null: rebuild (a node came or went). */
  private Set<String> dirty;

  /**
   * The nodes (placeholders left out) as of the last {@link #updateSnapshot}, in the cache's order.
   * Owned and read by one scheduling loop.
   */
  public static final class Snapshot {
    private NodeInfo[] nodes = new NodeInfo[0];
    private final Map<String, Integer> index = new HashMap<>();
    private final List<NodeInfo> view =
        new java.util.AbstractList<>() {
          @Override
          public NodeInfo get(int i) {
            if (i < 0 || i >= nodes.length) {
              throw new IndexOutOfBoundsException(i);
            }
            return nodes[i];
          }

          @Override
          public int size() {
            return nodes.length;
          }
        };
    private final SchedulerCache owner;

    private Snapshot(SchedulerCache owner) {
      this.owner = owner;
    }

    /** The nodes; valid until the next {@link SchedulerCache#updateSnapshot}. */
    public List<NodeInfo> nodes() {
      return view;
    }

    SchedulerCache owner() {
      return owner;
    }
  }

  /** A snapshot for one scheduling loop, brought up to date by {@link #updateSnapshot}. */
  public synchronized Snapshot newSnapshot() {
    Snapshot s = new Snapshot(this);
    rebuild(s);
    dirty = new HashSet<>();
    return s;
  }

  /**
   * Brings {@code s} up to date: the nodes changed since its last update are replaced in place; a
   * node added or removed rebuilds it. One snapshot per cache (the scheduling loop's).
   */
  public synchronized void updateSnapshot(Snapshot s) {
    if (s.owner() != this) {
      throw new IllegalArgumentException("the snapshot belongs to another cache");
    }
    if (dirty == null) {
      rebuild(s);
    } else {
      for (String name : dirty) {
        Integer i = s.index.get(name);
        NodeInfo n = nodes.get(name);
        if (i == null || n == null || n.node() == null) {
          rebuild(s);
          break;
        }
        s.nodes[i] = n;
      }
    }
    dirty = new HashSet<>();
  }

  private void rebuild(Snapshot s) {
    List<NodeInfo> real = snapshot();
    s.nodes = real.toArray(new NodeInfo[0]);
    s.index.clear();
    for (int i = 0; i < s.nodes.length; i++) {
      s.index.put(s.nodes[i].name(), i);
    }
  }

  /** Replaces a node's info, noting the change for {@link #updateSnapshot}. */
  private void put(String name, NodeInfo n) {
    NodeInfo old = nodes.put(name, n);
    if (dirty != null) {
      boolean wasReal = old != null && old.node() != null;
      boolean isReal = n.node() != null;
      if (!wasReal && !isReal) {
        return; // a placeholder: not in any snapshot
      }
      if (wasReal != isReal) {
        dirty = null; // a node appeared or went: the positions change
      } else {
        dirty.add(name);
      }
    }
  }

  private void drop(String name) {
    NodeInfo old = nodes.remove(name);
    if (dirty != null && old != null && old.node() != null) {
      dirty = null;
    }
  }

  private record PodState(PodInfo pod, String node, boolean assumed) {}

  public synchronized void addNode(ObjectNode node) {
    String name = Meta.name(node);
    NodeInfo existing = nodes.get(name);
    put(name, existing == null ? NodeInfo.of(node) : existing.withNode(node));
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
      drop(name);
    } else {
      put(name, existing.withNode(null));
    }
  }

  /** Puts {@code pod} on {@code node} before the binding is written. */
  public synchronized void assume(PodInfo pod, String node) {
    removeFromNode(pod.key());
    pods.put(pod.key(), new PodState(pod, node, true));
    put(node, nodeOrPlaceholder(node).withPod(pod));
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
    put(node, nodeOrPlaceholder(node).withPod(pod));
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
      drop(s.node);
    } else {
      put(s.node, without);
    }
  }
}

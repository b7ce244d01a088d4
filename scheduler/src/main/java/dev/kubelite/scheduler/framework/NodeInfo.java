package dev.kubelite.scheduler.framework;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Meta;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node and the pods on it (bound, or assumed by this scheduler), with their requests added up.
 * Immutable: every change makes a new NodeInfo, so a scheduling cycle can work on a snapshot while
 * the informers keep changing the cache.
 */
public final class NodeInfo {
  private static final Logger LOG = LoggerFactory.getLogger(NodeInfo.class);

  private final String name;
  private final ObjectNode node;
  private final Resources allocatable;
  private final Map<String, PodInfo> pods;
  private final Resources requested;
  private final Resources nonZeroRequested;
  private final Map<String, Integer> podsByController;
  private final NodeFacts facts;
  // Copies of what every filter and score reads for every node, kept in this object itself: a
  // cycle visits hundreds of nodes, and each pointer followed is a likely cache miss.
  private final boolean ready;
  private final boolean unschedulable;
  private final boolean tainted;
  private final long allocMilliCpu;
  private final long allocMemory;
  private final long allocPods;
  private final long reqMilliCpu;
  private final long reqMemory;
  private final long reqPods;
  private final long nonZeroMilliCpu;
  private final long nonZeroMemory;

  /**
   * What the filters read from the Node object, extracted once per node change rather than once per
   * pod and node: labels, {@code Ready=True}, {@code spec.unschedulable}, the NoSchedule and
   * NoExecute taints.
   */
  public record NodeFacts(
      Map<String, String> labels, boolean ready, boolean unschedulable, List<Taint> hardTaints) {
    static final NodeFacts NONE = new NodeFacts(Map.of(), false, false, List.of());

    static NodeFacts of(ObjectNode node) {
      if (node == null) {
        return NONE;
      }
      boolean ready = false;
      for (JsonNode c : node.path("status").path("conditions")) {
        if ("Ready".equals(c.path("type").asText())) {
          ready = "True".equals(c.path("status").asText());
          break;
        }
      }
      List<Taint> taints = new ArrayList<>();
      for (JsonNode t : node.path("spec").path("taints")) {
        String effect = t.path("effect").asText("");
        if (effect.equals("NoSchedule") || effect.equals("NoExecute")) {
          taints.add(new Taint(t.path("key").asText(""), t.path("value").asText(""), effect));
        }
      }
      return new NodeFacts(
          Map.copyOf(Meta.labels(node)),
          ready,
          node.path("spec").path("unschedulable").asBoolean(false),
          List.copyOf(taints));
    }
  }

  /** A node taint. */
  public record Taint(String key, String value, String effect) {}

  private NodeInfo(
      String name,
      ObjectNode node,
      Resources allocatable,
      Map<String, PodInfo> pods,
      Resources requested,
      Resources nonZeroRequested,
      Map<String, Integer> podsByController) {
    this.name = name;
    this.node = node;
    this.allocatable = allocatable;
    this.pods = pods;
    this.requested = requested;
    this.nonZeroRequested = nonZeroRequested;
    this.podsByController = podsByController;
    this.facts = NodeFacts.of(node);
    this.ready = facts.ready();
    this.unschedulable = facts.unschedulable();
    this.tainted = !facts.hardTaints().isEmpty();
    this.allocMilliCpu = allocatable.milliCpu();
    this.allocMemory = allocatable.memory();
    this.allocPods = allocatable.pods();
    this.reqMilliCpu = requested.milliCpu();
    this.reqMemory = requested.memory();
    this.reqPods = requested.pods();
    this.nonZeroMilliCpu = nonZeroRequested.milliCpu();
    this.nonZeroMemory = nonZeroRequested.memory();
  }

  private NodeInfo(
      NodeInfo base,
      Map<String, PodInfo> pods,
      Resources requested,
      Resources nonZeroRequested,
      Map<String, Integer> podsByController) {
    this.name = base.name;
    this.node = base.node;
    this.allocatable = base.allocatable;
    this.pods = pods;
    this.requested = requested;
    this.nonZeroRequested = nonZeroRequested;
    this.podsByController = podsByController;
    this.facts = base.facts;
    this.ready = base.ready;
    this.unschedulable = base.unschedulable;
    this.tainted = base.tainted;
    this.allocMilliCpu = base.allocMilliCpu;
    this.allocMemory = base.allocMemory;
    this.allocPods = base.allocPods;
    this.reqMilliCpu = requested.milliCpu();
    this.reqMemory = requested.memory();
    this.reqPods = requested.pods();
    this.nonZeroMilliCpu = nonZeroRequested.milliCpu();
    this.nonZeroMemory = nonZeroRequested.memory();
  }

  /** A node without pods. */
  public static NodeInfo of(ObjectNode node) {
    return new NodeInfo(
        Meta.name(node),
        node,
        allocatableOf(node),
        Map.of(),
        Resources.ZERO,
        Resources.ZERO,
        Map.of());
  }

  /** Pods whose node the cache has not seen (yet, or any more). */
  public static NodeInfo placeholder(String name) {
    return new NodeInfo(
        name, null, Resources.ZERO, Map.of(), Resources.ZERO, Resources.ZERO, Map.of());
  }

  private static Resources allocatableOf(ObjectNode node) {
    JsonNode a = node.path("status").path("allocatable");
    try {
      return Resources.of(a);
    } catch (IllegalArgumentException e) {
      LOG.warn(
          "node {} has a malformed status.allocatable ({}): the scheduler treats it as empty",
          Meta.name(node),
          e.getMessage());
      return Resources.ZERO;
    }
  }

  /** The same pods on a changed node object (null: the node is gone but pods remain). */
  public NodeInfo withNode(ObjectNode newNode) {
    return new NodeInfo(
        name,
        newNode,
        newNode == null ? Resources.ZERO : allocatableOf(newNode),
        pods,
        requested,
        nonZeroRequested,
        podsByController);
  }

  public NodeInfo withPod(PodInfo p) {
    NodeInfo base = pods.containsKey(p.key()) ? withoutPod(p.key()) : this;
    Map<String, PodInfo> newPods = new LinkedHashMap<>(base.pods);
    newPods.put(p.key(), p);
    Map<String, Integer> owners = base.podsByController;
    if (p.controllerUid() != null) {
      owners = new HashMap<>(owners);
      owners.merge(p.controllerUid(), 1, Integer::sum);
    }
    return new NodeInfo(
        base,
        newPods,
        base.requested.plus(p.requests()),
        base.nonZeroRequested.plus(p.nonZeroRequests()),
        owners);
  }

  public NodeInfo withoutPod(String podKey) {
    PodInfo p = pods.get(podKey);
    if (p == null) {
      return this;
    }
    Map<String, PodInfo> newPods = new LinkedHashMap<>(pods);
    newPods.remove(podKey);
    Map<String, Integer> owners = podsByController;
    if (p.controllerUid() != null) {
      owners = new HashMap<>(owners);
      owners.computeIfPresent(p.controllerUid(), (k, n) -> n <= 1 ? null : n - 1);
    }
    return new NodeInfo(
        this,
        newPods,
        requested.minus(p.requests()),
        nonZeroRequested.minus(p.nonZeroRequests()),
        owners);
  }

  public String name() {
    return name;
  }

  /** The Node object, or null for a placeholder. */
  public ObjectNode node() {
    return node;
  }

  /** {@code status.allocatable}: cpu, memory, pods. */
  public Resources allocatable() {
    return allocatable;
  }

  /** Sum of the requests of the pods on the node ({@code pods} = their number). */
  public Resources requested() {
    return requested;
  }

  /** Sum of the non-zero requests (see {@link PodInfo#nonZeroRequests()}). */
  public Resources nonZeroRequested() {
    return nonZeroRequested;
  }

  public Collection<PodInfo> pods() {
    return Collections.unmodifiableCollection(pods.values());
  }

  public int podCount() {
    return pods.size();
  }

  /** How many pods on this node have the controller {@code uid}. */
  public int podsOfController(String uid) {
    if (podsByController.isEmpty()) {
      return 0;
    }
    Integer n = podsByController.get(uid);
    return n == null ? 0 : n;
  }

  /** {@code facts().ready()}, read without leaving this object. */
  public boolean ready() {
    return ready;
  }

  /** {@code facts().unschedulable()}, read without leaving this object. */
  public boolean unschedulable() {
    return unschedulable;
  }

  /** Whether {@code facts().hardTaints()} is not empty. */
  public boolean tainted() {
    return tainted;
  }

  /** {@code allocatable().milliCpu()} and the like, read without leaving this object. */
  public long allocatableMilliCpu() {
    return allocMilliCpu;
  }

  public long allocatableMemory() {
    return allocMemory;
  }

  public long allocatablePods() {
    return allocPods;
  }

  public long requestedMilliCpu() {
    return reqMilliCpu;
  }

  public long requestedMemory() {
    return reqMemory;
  }

  public long requestedPods() {
    return reqPods;
  }

  public long nonZeroRequestedMilliCpu() {
    return nonZeroMilliCpu;
  }

  public long nonZeroRequestedMemory() {
    return nonZeroMemory;
  }

  /** The node's labels, ready flag, cordon and hard taints (see {@link NodeFacts}). */
  public NodeFacts facts() {
    return facts;
  }

  @Override
  public String toString() {
    return name + "{" + pods.size() + " pods, requested " + requested + " of " + allocatable + "}";
  }
}

package dev.kubelite.controller.nodelifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Indexer;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.events.EventRecorder;
import dev.kubelite.client.workqueue.ReconcileLoop;
import dev.kubelite.controller.Controller;
import dev.kubelite.controller.SharedInformers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node lifecycle controller, as kube-controller-manager's nodelifecycle controller with its
 * taint-based eviction:
 *
 * <ul>
 *   <li><b>Health</b>: a node is heard from when its Lease in {@code kube-node-lease} gets a new
 *       {@code spec.renewTime} or its Ready condition a new {@code lastHeartbeatTime} (times are
 *       taken on this controller's clock when it sees the change, so clocks need not agree). A node
 *       not heard from for the grace period (40 s; 60 s for a node that never posted a Ready
 *       condition) gets its conditions set to {@code Unknown} ({@code NodeStatusUnknown}, "Kubelet
 *       stopped posting node status.") through {@code nodes/status}, an event {@code NodeNotReady},
 *       and its pods' Ready condition set to False.
 *   <li><b>Taints</b>: Ready Unknown → {@code node.kubernetes.io/unreachable} NoSchedule and
 *       NoExecute; Ready False → {@code node.kubernetes.io/not-ready} NoSchedule and NoExecute;
 *       Ready True → neither.
 *   <li><b>Eviction</b>: a pod on a node with NoExecute taints is deleted once the shortest
 *       matching toleration runs out ({@code tolerationSeconds}), at once if a taint is not
 *       tolerated, never if it tolerates them all without a time. Pods without a toleration for the
 *       not-ready/unreachable taints get the DefaultTolerationSeconds admission default (300 s)
 *       here. An event {@code TaintManagerEviction} marks each eviction (and each cancelled one).
 * </ul>
 */
public final class NodeLifecycleController implements Controller {
  /** The name {@code --controllers} and the logs use. */
  public static final String NAME = "node-lifecycle";

  private static final Logger log = LoggerFactory.getLogger(NodeLifecycleController.class);

  static final String LEASE_NAMESPACE = "kube-node-lease";
  static final List<String> CONDITIONS =
      List.of("Ready", "MemoryPressure", "DiskPressure", "PIDPressure");

  /**
   * @param monitorPeriod how often every node's health is checked ({@code --node-monitor-period}, 5
   *     s)
   * @param gracePeriod how long a node may go unheard before it is Unknown ({@code
   *     --node-monitor-grace-period}, 40 s)
   * @param startupGracePeriod the same for a node that never posted a Ready condition ({@code
   *     --node-startup-grace-period}, 60 s)
   * @param defaultTolerationSeconds the toleration for not-ready/unreachable given to pods without
   *     one (the DefaultTolerationSeconds admission plugin's 300 s)
   */
  public record Options(
      Duration monitorPeriod,
      Duration gracePeriod,
      Duration startupGracePeriod,
      Duration defaultTolerationSeconds,
      int workers) {
    public static Options defaults() {
      return new Options(
          Duration.ofSeconds(5),
          Duration.ofSeconds(40),
          Duration.ofSeconds(60),
          Duration.ofSeconds(300),
          4);
    }
  }

  /** What this controller knows of a node's heartbeats. */
  private static final class Health {
    volatile long heardNanos;
    volatile String renewTime;
    volatile String heartbeat;
    volatile String readyStatus;

    Health(long now) {
      heardNanos = now;
    }
  }

  private final KubeClient client;
  private final Options options;
  private final Clock clock = Clock.systemUTC();
  private final Informer nodes;
  private final Informer leases;
  private final SharedInformers.Handle leasesHandle;
  private final Informer pods;
  private final SharedInformers.Handle podsHandle;
  private final ReconcileLoop loop;
  private final EventRecorder events;
  private final ScheduledExecutorService monitor;
  private final Map<String, Health> health = new ConcurrentHashMap<>();

  /** Pod uid → when its eviction countdown started (the first time it was seen tainted). */
  private final Map<String, Instant> countdowns = new ConcurrentHashMap<>();

  public NodeLifecycleController(KubeClient client, Options options) {
    this(client, options, null);
  }

  /** With the pod informer shared through {@code shared} (null: its own). */
  public NodeLifecycleController(KubeClient client, Options options, SharedInformers shared) {
    this.client = client;
    this.options = options;
    this.nodes = new Informer(client, Resource.NODES, null, Informer.Options.defaults());
    // The shared lease informer of every namespace, as kube-controller-manager's node lifecycle
    // controller reads it (the garbage collector shares it too: one watch, decoded once;
    // decision 0043); only the node heartbeats in kube-node-lease count.
    this.leasesHandle = SharedInformers.of(shared, client, Resource.LEASES);
    this.leases = leasesHandle.informer();
    this.podsHandle = SharedInformers.of(shared, client, Resource.PODS);
    this.pods = podsHandle.informer();
    pods.indexer().addIndex("node", Indexer.field("spec", "nodeName"));
    this.loop = new ReconcileLoop("node-lifecycle", options.workers(), this::reconcile);
    this.events = new EventRecorder(client, "node-controller", null);
    this.monitor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "node-monitor");
              t.setDaemon(true);
              return t;
            });
    nodes.addEventHandler(
        new EventHandler() {
          @Override
          public void onAdd(ObjectNode obj) {
            nodeSeen(obj);
          }

          @Override
          public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
            nodeSeen(newObj);
          }

          @Override
          public void onDelete(ObjectNode obj) {
            health.remove(Meta.name(obj));
          }
        });
    leases.addEventHandler(EventHandler.onAddOrUpdate(this::leaseSeen));
    pods.addEventHandler(
        new EventHandler() {
          @Override
          public void onAdd(ObjectNode obj) {
            podSeen(obj);
          }

          @Override
          public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
            podSeen(newObj);
          }

          @Override
          public void onDelete(ObjectNode obj) {
            countdowns.remove(Meta.uid(obj));
          }
        });
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start() {
    nodes.start();
    leasesHandle.start();
    podsHandle.start();
    loop.start(nodes, leases, pods);
    long period = options.monitorPeriod().toMillis();
    monitor.scheduleWithFixedDelay(this::monitorAll, period, period, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean hasSynced() {
    return nodes.hasSynced() && leases.hasSynced() && pods.hasSynced();
  }

  @Override
  public void close() {
    monitor.shutdownNow();
    loop.close();
    nodes.close();
    leasesHandle.close();
    podsHandle.close();
    events.close();
  }

  // ------------------------------------------------------------------------------ observations

  private Health health(String node) {
    return health.computeIfAbsent(node, n -> new Health(System.nanoTime()));
  }

  private void nodeSeen(ObjectNode node) {
    String name = Meta.name(node);
    Health h = health(name);
    JsonNode ready = condition(node, "Ready");
    String beat = ready == null ? null : ready.path("lastHeartbeatTime").asText(null);
    if (beat != null && !beat.equals(h.heartbeat)) {
      h.heartbeat = beat;
      h.heardNanos = System.nanoTime();
    }
    loop.enqueue(name);
  }

  private void leaseSeen(ObjectNode lease) {
    if (!LEASE_NAMESPACE.equals(Meta.namespace(lease))) {
      return; // not a node heartbeat (leader election, other leases)
    }
    String name = Meta.name(lease);
    String renew = lease.path("spec").path("renewTime").asText(null);
    Health h = health(name);
    if (renew != null && !renew.equals(h.renewTime)) {
      h.renewTime = renew;
      h.heardNanos = System.nanoTime();
    }
  }

  private void podSeen(ObjectNode pod) {
    String nodeName = pod.path("spec").path("nodeName").asText("");
    if (nodeName.isEmpty() || Meta.isBeingDeleted(pod)) {
      return;
    }
    ObjectNode node = nodes.indexer().get(nodeName);
    if (node != null && !noExecuteTaints(node).isEmpty()) {
      loop.enqueue(nodeName);
    }
  }

  private void monitorAll() {
    try {
      if (!hasSynced()) {
        return;
      }
      for (String name : nodes.indexer().keys()) {
        loop.enqueue(name);
      }
    } catch (RuntimeException e) {
      log.warn(
          "node-lifecycle: monitor pass failed, trying again next period: {}", e.toString(), e);
    }
  }

  // ------------------------------------------------------------------------------ reconcile

  void reconcile(String name) {
    ObjectNode node = nodes.indexer().get(name);
    if (node == null) {
      health.remove(name);
      return;
    }
    Health h = health(name);
    List<String> did = new ArrayList<>();
    String observed;

    // 1. Health: no heartbeat for the grace period → conditions Unknown.
    JsonNode ready = condition(node, "Ready");
    Duration grace = ready == null ? options.startupGracePeriod() : options.gracePeriod();
    Duration silent = Duration.ofNanos(System.nanoTime() - h.heardNanos);
    String readyStatus = ready == null ? "Unknown" : ready.path("status").asText("Unknown");
    observed =
        "Ready="
            + (ready == null ? "<none>" : readyStatus)
            + ", last heard "
            + seconds(silent)
            + " ago";
    if (silent.compareTo(grace) > 0 && (ready == null || !readyStatus.equals("Unknown"))) {
      node = markUnknown(node);
      ready = condition(node, "Ready");
      readyStatus = "Unknown";
      did.add(
          "no heartbeat for more than the "
              + seconds(grace)
              + " grace period → conditions Unknown (NodeStatusUnknown)");
      events.normal(node, "NodeNotReady", "Node " + name + " status is now: NodeNotReady");
    }
    String before = h.readyStatus;
    if (!readyStatus.equals("True") && (before == null || before.equals("True"))) {
      int marked = markPodsNotReady(name);
      if (marked > 0) {
        did.add(marked + " pods' Ready condition set False");
      }
    }
    // Remembered only once the pods are marked: a failure above retries the whole reconcile.
    h.readyStatus = readyStatus;

    // 2. Taints follow the Ready condition (a node that has none yet is left alone until its
    // startup grace period has run out and it is marked Unknown).
    String taintKey =
        ready == null
            ? null
            : switch (readyStatus) {
              case "True" -> null;
              case "False" -> Taints.NOT_READY;
              default -> Taints.UNREACHABLE;
            };
    TaintChange change = updateTaintsRetrying(node, taintKey, readyStatus);
    if (change != null) {
      node = change.node();
      did.add("taints " + change.summary());
    }

    // 3. Pods on the node with NoExecute taints: evict when their toleration runs out.
    List<JsonNode> noExecute = noExecuteTaints(node);
    Instant now = clock.instant();
    Instant next = null;
    int evicted = 0;
    int waiting = 0;
    int forever = 0;
    int cancelled = 0;
    for (ObjectNode pod : pods.indexer().byIndex("node", name)) {
      if (Meta.isBeingDeleted(pod)) {
        continue;
      }
      String uid = Meta.uid(pod);
      if (noExecute.isEmpty()) {
        if (countdowns.remove(uid) != null) {
          cancelled++;
          events.normal(pod, "TaintManagerEviction", "Cancelling deletion of Pod " + Meta.key(pod));
        }
        continue;
      }
      Optional<Duration> tolerated = Optional.empty();
      for (JsonNode taint : noExecute) {
        Optional<Duration> t = Taints.toleration(pod, taint, options.defaultTolerationSeconds());
        if (t.isPresent() && (tolerated.isEmpty() || t.get().compareTo(tolerated.get()) < 0)) {
          tolerated = t;
        }
      }
      if (tolerated.isEmpty()) {
        if (countdowns.remove(uid) != null) {
          cancelled++;
        }
        forever++;
        continue;
      }
      Instant start = countdowns.computeIfAbsent(uid, u -> now);
      Instant at = start.plus(tolerated.get());
      if (!at.isAfter(now)) {
        if (evict(pod)) {
          evicted++;
          events.normal(pod, "TaintManagerEviction", "Marking for deletion Pod " + Meta.key(pod));
        }
        countdowns.remove(uid);
      } else {
        waiting++;
        next = next == null || at.isBefore(next) ? at : next;
      }
    }
    if (evicted > 0) {
      did.add(evicted + " pods evicted (toleration ran out)");
    }
    if (cancelled > 0) {
      did.add(cancelled + " pending evictions cancelled");
    }
    if (next != null) {
      loop.enqueueAfter(name, Duration.between(now, next).plusMillis(10));
    }
    if (!did.isEmpty()) {
      String pending =
          noExecute.isEmpty()
              ? ""
              : "; "
                  + waiting
                  + " pods waiting for eviction"
                  + (next == null ? "" : " (next at " + next.truncatedTo(ChronoUnit.MILLIS) + ")")
                  + ", "
                  + forever
                  + " tolerate it for ever";
      log.info("node-lifecycle {}: {} → {}{}", name, observed, String.join("; ", did), pending);
    }
  }

  private static String seconds(Duration d) {
    return String.format("%.1f s", d.toMillis() / 1000.0);
  }

  static JsonNode condition(JsonNode obj, String type) {
    for (JsonNode c : obj.path("status").path("conditions")) {
      if (c.path("type").asText().equals(type)) {
        return c;
      }
    }
    return null;
  }

  private static List<JsonNode> noExecuteTaints(JsonNode node) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode t : node.path("spec").path("taints")) {
      if (Taints.NO_EXECUTE.equals(t.path("effect").asText())) {
        out.add(t);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------------ writes

  /** Sets the node's conditions Unknown through nodes/status; returns the node as written. */
  private ObjectNode markUnknown(ObjectNode node) {
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    ObjectNode updated = node.deepCopy();
    ObjectNode status = child(updated, "status");
    ArrayNode conditions =
        status.get("conditions") instanceof ArrayNode a ? a : status.putArray("conditions");
    for (String type : CONDITIONS) {
      ObjectNode c = null;
      for (JsonNode existing : conditions) {
        if (existing.path("type").asText().equals(type)) {
          c = (ObjectNode) existing;
        }
      }
      if (c == null) {
        c = conditions.addObject();
        c.put("type", type);
        c.put("status", "Unknown");
        c.put("lastHeartbeatTime", node.path("metadata").path("creationTimestamp").asText(now));
        c.put("lastTransitionTime", now);
        c.put("reason", "NodeStatusNeverUpdated");
        c.put("message", "Kubelet never posted node status.");
        continue;
      }
      if (!"Unknown".equals(c.path("status").asText())) {
        c.put("status", "Unknown");
        c.put("lastTransitionTime", now);
      }
      c.put("reason", "NodeStatusUnknown");
      c.put("message", "Kubelet stopped posting node status.");
    }
    // A conflict (the kubelet wrote meanwhile) fails the reconcile; it is retried with fresh data.
    return client.updateStatus(Resource.NODES, updated);
  }

  private record TaintChange(ObjectNode node, String summary) {}

  /**
   * {@link #updateTaints}, re-read and tried again when the node changed meanwhile (a kubelet's
   * status write) as long as its Ready status is still the one the taints were chosen for; if it is
   * not, the node's update event has queued another reconcile, which decides afresh.
   */
  private TaintChange updateTaintsRetrying(ObjectNode node, String key, String readyStatus) {
    for (int attempt = 0; ; attempt++) {
      try {
        return updateTaints(node, key);
      } catch (ApiException e) {
        if (!e.isConflict() || attempt >= 5) {
          throw e;
        }
        node = client.get(Resource.NODES, null, Meta.name(node));
        JsonNode ready = condition(node, "Ready");
        if (ready == null || !readyStatus.equals(ready.path("status").asText("Unknown"))) {
          return null;
        }
      }
    }
  }

  /** Makes the node's not-ready/unreachable taints those of {@code key} (null: none). */
  private TaintChange updateTaints(ObjectNode node, String key) {
    ArrayNode now = KubeClient.JSON.createArrayNode();
    List<String> removed = new ArrayList<>();
    List<String> added = new ArrayList<>();
    boolean hasSchedule = false;
    boolean hasExecute = false;
    for (JsonNode t : node.path("spec").path("taints")) {
      String k = t.path("key").asText();
      String effect = t.path("effect").asText();
      boolean ours = k.equals(Taints.NOT_READY) || k.equals(Taints.UNREACHABLE);
      boolean ourEffect = effect.equals(Taints.NO_SCHEDULE) || effect.equals(Taints.NO_EXECUTE);
      if (ours && ourEffect && !k.equals(key)) {
        removed.add("-" + k + ":" + effect);
        continue;
      }
      if (ours && effect.equals(Taints.NO_SCHEDULE)) {
        hasSchedule = true;
      }
      if (ours && effect.equals(Taints.NO_EXECUTE)) {
        hasExecute = true;
      }
      now.add(t);
    }
    if (key != null) {
      String at = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
      if (!hasSchedule) {
        now.addObject().put("key", key).put("effect", Taints.NO_SCHEDULE);
        added.add("+" + key + ":" + Taints.NO_SCHEDULE);
      }
      if (!hasExecute) {
        now.addObject().put("key", key).put("effect", Taints.NO_EXECUTE).put("timeAdded", at);
        added.add("+" + key + ":" + Taints.NO_EXECUTE);
      }
    }
    if (removed.isEmpty() && added.isEmpty()) {
      return null;
    }
    ObjectNode updated = node.deepCopy();
    ObjectNode spec = child(updated, "spec");
    if (now.isEmpty()) {
      spec.remove("taints");
    } else {
      spec.set("taints", now);
    }
    ObjectNode written = client.update(Resource.NODES, updated);
    List<String> all = new ArrayList<>(added);
    all.addAll(removed);
    return new TaintChange(written, String.join(",", all));
  }

  /** Sets the Ready condition of the node's pods False (pods/status); returns how many. */
  private int markPodsNotReady(String nodeName) {
    int marked = 0;
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    for (ObjectNode cached : pods.indexer().byIndex("node", nodeName)) {
      ObjectNode pod = cached;
      for (int attempt = 0; attempt < 5; attempt++) {
        JsonNode ready = condition(pod, "Ready");
        if (ready == null || !"True".equals(ready.path("status").asText())) {
          break;
        }
        ObjectNode updated = pod.deepCopy();
        for (JsonNode c : updated.path("status").path("conditions")) {
          if (c.path("type").asText().equals("Ready")) {
            ((ObjectNode) c).put("status", "False").put("lastTransitionTime", now);
          }
        }
        try {
          client.updateStatus(Resource.PODS, updated);
          marked++;
          events.warning(pod, "NodeNotReady", "Node is not ready");
          break;
        } catch (ApiException e) {
          if (e.isNotFound()) {
            break;
          }
          if (!e.isConflict()) {
            throw e;
          }
          pod = client.get(Resource.PODS, Meta.namespace(pod), Meta.name(pod));
        }
      }
    }
    return marked;
  }

  /** Deletes the pod (its own grace period applies); false if it was gone or replaced. */
  private boolean evict(ObjectNode pod) {
    ObjectNode opts = KubeClient.JSON.createObjectNode();
    opts.put("kind", "DeleteOptions").put("apiVersion", "v1");
    opts.putObject("preconditions").put("uid", Meta.uid(pod));
    try {
      client.delete(Resource.PODS, Meta.namespace(pod), Meta.name(pod), opts);
      return true;
    } catch (ApiException e) {
      if (e.isNotFound() || e.isConflict()) {
        return false;
      }
      throw e;
    }
  }

  private static ObjectNode child(ObjectNode o, String field) {
    JsonNode n = o.get(field);
    return n instanceof ObjectNode on ? on : o.putObject(field);
  }
}

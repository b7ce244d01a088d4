package dev.kubelite.kubelet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Indexer;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.events.EventRecorder;
import dev.kubelite.client.workqueue.ReconcileLoop;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many simulated kubelets in one process (kwok-style: no containers run). Each node registers its
 * Node, renews its Lease in {@code kube-node-lease} and posts its status; the pods bound to any of
 * them move through ContainerCreating to Running (or exit, restart, and stop when deleted) as a
 * kubelet would report them, with the kubelet's events.
 *
 * <p>Threads do not grow with the number of nodes: one pod informer (one watch for all nodes), a
 * few pod workers over one work queue, a few heartbeat threads on one scheduled executor, and one
 * event writer.
 */
public final class Kubelet implements AutoCloseable {
  static final Logger LOG = LoggerFactory.getLogger(Kubelet.class);

  static final String LEASE_NS = "kube-node-lease";

  private static final String NODE_INDEX = "node";

  /**
   * {@code "true"} on a Node stops that simulated node (as if its machine failed), removing it or
   * setting anything else starts it again: {@code kubectl annotate node node-3
   * kubelite.dev/stopped=true}.
   */
  public static final String STOPPED_ANNOTATION = "kubelite.dev/stopped";

  /** The label every simulated node carries; the node informer selects by it. */
  static final String SIMULATED_LABEL = "type=kubelite-simulated";

  private final KubeClient client;
  private final Function<String, KubeClient> nodeClients;
  private final KubeletConfig config;
  private final Clock clock;
  private final Map<String, SimNode> nodes;
  private final ScheduledThreadPoolExecutor heartbeats;
  private final Informer pods;
  private final Informer nodeObjects;
  private final ReconcileLoop podLoop;
  private final EventRecorder events;
  private final Map<String, EventRecorder> nodeEvents = new ConcurrentHashMap<>();
  private final Map<String, PodRuntime> runtimes = new ConcurrentHashMap<>();
  private final FailureLog registerFailures = new FailureLog(LOG, "register the node");
  private final FailureLog leaseFailures = new FailureLog(LOG, "renew its lease in " + LEASE_NS);
  private final FailureLog statusFailures = new FailureLog(LOG, "post node status");
  private volatile boolean started;
  private volatile boolean closed;
  private KubeletServer server;

  public Kubelet(KubeClient client, KubeletConfig config) {
    this(client, node -> client, config, Clock.systemUTC());
  }

  /**
   * With one client per node ({@code nodeClients}: node name → a client authenticated as {@code
   * system:node:<name>}) for what a node writes about itself (its Node, Lease, its pods' status and
   * removal), as each real kubelet has its own credentials; {@code client} watches the pods and
   * nodes of every node of this process and records events.
   */
  public Kubelet(
      KubeClient client, Function<String, KubeClient> nodeClients, KubeletConfig config) {
    this(client, nodeClients, config, Clock.systemUTC());
  }

  Kubelet(KubeClient client, KubeletConfig config, Clock clock) {
    this(client, node -> client, config, clock);
  }

  Kubelet(
      KubeClient client,
      Function<String, KubeClient> nodeClients,
      KubeletConfig config,
      Clock clock) {
    this.client = client.withUserAgent("kubelet");
    this.nodeClients = node -> nodeClients.apply(node).withUserAgent("kubelet");
    this.config = config;
    this.clock = clock;
    Map<String, SimNode> m = new LinkedHashMap<>();
    for (int i = 0; i < config.nodes(); i++) {
      SimNode n = new SimNode(config.nodePrefix(), config.firstNode() + i);
      m.put(n.name, n);
    }
    this.nodes = Collections.unmodifiableMap(m);
    AtomicInteger threadNo = new AtomicInteger();
    this.heartbeats =
        new ScheduledThreadPoolExecutor(
            config.heartbeatWorkers(),
            r -> {
              Thread t = new Thread(r, "heartbeat-" + threadNo.getAndIncrement());
              t.setDaemon(true);
              return t;
            });
    this.heartbeats.setRemoveOnCancelPolicy(true);
    // One watch for every node of this process: all bound pods (the API server's field selectors
    // have no set-based form such as "spec.nodeName in (...)"), filtered here by node name. A
    // process of one node watches only its own pods, as a real kubelet does: that is all the Node
    // authorizer lets a kubelet identity (system:node:<name>) list.
    String podSelector =
        m.size() == 1 ? "spec.nodeName=" + m.keySet().iterator().next() : "spec.nodeName!=";
    this.pods =
        new Informer(
            client,
            Resource.PODS,
            null,
            Informer.Options.defaults().withSelectors(ListOptions.fields(podSelector)));
    this.pods.indexer().addIndex(NODE_INDEX, Indexer.field("spec", "nodeName"));
    // The Nodes of this process, for the stop/start annotation.
    this.nodeObjects =
        new Informer(
            client,
            Resource.NODES,
            null,
            Informer.Options.defaults().withSelectors(ListOptions.labels(SIMULATED_LABEL)));
    this.nodeObjects.addEventHandler(EventHandler.onAddOrUpdate(this::onNode));
    this.podLoop = new ReconcileLoop("kubelet-pods", config.podWorkers(), this::reconcilePod);
    this.events = new EventRecorder(client, "kubelet", null);
    this.pods.addEventHandler(EventHandler.onAnyChange(this::offer));
  }

  /** Registers every node (retrying until the API server answers), starts heartbeats and pods. */
  public synchronized Kubelet start() {
    if (started) {
      throw new IllegalStateException("this kubelet has started already");
    }
    started = true;
    try {
      server = new KubeletServer(config.serverPort(), this::findLog, clock);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "cannot serve the kubelet API (container logs) on 127.0.0.1:"
              + config.serverPort()
              + "; pick another port with --port (0 = any free one)",
          e);
    }
    LOG.info(
        "starting {} simulated node(s) {}..{} ({} cpu, {} memory, {} pods each) on {}",
        nodes.size(),
        first().name,
        last().name,
        config.cpu(),
        config.memory(),
        config.maxPods(),
        client.server());
    long renewMs = config.leaseRenewInterval().toMillis();
    long reportMs = config.statusReportInterval().toMillis();
    for (SimNode n : nodes.values()) {
      heartbeats.execute(() -> register(n, 0));
      // Spread the nodes' heartbeats over the interval instead of sending them in bursts.
      heartbeats.scheduleWithFixedDelay(
          () -> renewLease(n),
          ThreadLocalRandom.current().nextLong(renewMs),
          renewMs,
          TimeUnit.MILLISECONDS);
      heartbeats.scheduleWithFixedDelay(
          () -> reportStatus(n),
          reportMs / 2 + ThreadLocalRandom.current().nextLong(Math.max(1, reportMs / 2)),
          reportMs,
          TimeUnit.MILLISECONDS);
    }
    pods.start();
    nodeObjects.start();
    podLoop.start(pods, nodeObjects);
    return this;
  }

  private SimNode first() {
    return nodes.values().iterator().next();
  }

  private SimNode last() {
    SimNode l = null;
    for (SimNode n : nodes.values()) {
      l = n;
    }
    return l;
  }

  /** The names of the nodes this process hosts, in order. */
  public List<String> nodeNames() {
    return new ArrayList<>(nodes.keySet());
  }

  /** Whether every node has registered its Node. */
  public boolean allRegistered() {
    return nodes.values().stream().allMatch(n -> n.registered);
  }

  /**
   * Stops one node as if its machine failed: no more lease renewals, status updates or pod changes.
   * Its Node, Lease and pods stay as they are (the node lifecycle controller notices the silence).
   */
  public void stopNode(String name) {
    SimNode n = node(name);
    if (n.running) {
      n.running = false;
      LOG.info("{} stopped: no more lease renewals, status updates or pod changes", name);
    }
  }

  /** Starts a stopped node again: it reports Ready at once and resumes its pods. */
  public void startNode(String name) {
    SimNode n = node(name);
    if (!n.running) {
      n.running = true;
      LOG.info("{} started again", name);
      heartbeats.execute(
          () -> {
            renewLease(n);
            reportStatus(n);
          });
      for (ObjectNode p : pods.indexer().byIndex(NODE_INDEX, name)) {
        podLoop.enqueue(Meta.key(p));
      }
    }
  }

  /** Follows the {@link #STOPPED_ANNOTATION} of this process's Nodes (acting on changes only). */
  private void onNode(ObjectNode obj) {
    SimNode n = nodes.get(Meta.name(obj));
    if (n == null) {
      return;
    }
    String value = Meta.annotations(obj).getOrDefault(STOPPED_ANNOTATION, "");
    String before = n.stopAnnotation;
    n.stopAnnotation = value;
    boolean stop = value.equals("true");
    if (before != null && stop == before.equals("true")) {
      return;
    }
    if (stop) {
      LOG.info("{}: annotated {}=true", n.name, STOPPED_ANNOTATION);
      stopNode(n.name);
    } else if (before != null) {
      LOG.info("{}: annotation {} removed", n.name, STOPPED_ANNOTATION);
      startNode(n.name);
    }
  }

  private KubeClient clientFor(String node) {
    return nodeClients.apply(node);
  }

  private SimNode node(String name) {
    SimNode n = nodes.get(name);
    if (n == null) {
      throw new IllegalArgumentException(
          "no simulated node " + name + " in this process (it hosts " + nodes.keySet() + ")");
    }
    return n;
  }

  /** Stops every node: heartbeats and pod changes stop; Nodes and Leases are not deleted. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    heartbeats.shutdownNow();
    podLoop.close();
    pods.close();
    nodeObjects.close();
    try {
      if (!heartbeats.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("heartbeat threads still busy 10 s after the shutdown; leaving them");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    events.close();
    if (server != null) {
      server.close();
    }
    LOG.info(
        "stopped {} simulated node(s): they no longer renew leases (Node objects kept)",
        nodes.size());
  }

  // ------------------------------------------------------------------------------ nodes

  private void register(SimNode n, int attempt) {
    if (closed) {
      return;
    }
    Instant now = clock.instant();
    try {
      try {
        ObjectNode created =
            clientFor(n.name)
                .create(Resource.NODES, null, n.nodeObject(config, now, server.port()));
        n.uid = Meta.uid(created);
        LOG.info(
            "{} registered: InternalIP {}, pod CIDR {}, {} cpu, {} memory, {} pods",
            n.name,
            n.internalIp,
            n.podCidr,
            config.cpu(),
            config.memory(),
            config.maxPods());
      } catch (ApiException e) {
        if (!e.isConflict()) {
          throw e;
        }
        // Registered before (this process restarted): keep the Node, report fresh status.
        ObjectNode existing = clientFor(n.name).get(Resource.NODES, null, n.name);
        n.uid = Meta.uid(existing);
        // As the kubelet does on start: capacity, addresses and nodeInfo as configured now.
        ObjectNode patch = KubeClient.JSON.createObjectNode();
        ObjectNode status = (ObjectNode) n.nodeObject(config, now, server.port()).get("status");
        status.set("conditions", n.conditions(now, existing.path("status").path("conditions")));
        patch.set("status", status);
        clientFor(n.name).patchStatus(Resource.NODES, null, n.name, PatchType.MERGE, patch);
        LOG.info("{} was registered already; reporting its status again", n.name);
      }
      n.registered = true;
      renewLease(n);
    } catch (RuntimeException e) {
      if (closed) {
        return;
      }
      long delayMs = Math.min(7_000, 200L << Math.min(attempt, 6));
      registerFailures.failed(n.name, e.getMessage(), "retrying in " + delayMs + " ms");
      schedule(() -> register(n, attempt + 1), delayMs);
    }
  }

  private void schedule(Runnable r, long delayMs) {
    if (!closed) {
      try {
        heartbeats.schedule(r, delayMs, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // Closing: nothing more to do.
      }
    }
  }

  /** Renews the node's Lease (creating it if missing), as the kubelet's lease controller does. */
  void renewLease(SimNode n) {
    if (closed || !n.running || !n.registered) {
      return;
    }
    try {
      Instant now = clock.instant();
      ObjectNode lease = n.lease;
      if (lease == null) {
        try {
          n.lease = clientFor(n.name).create(Resource.LEASES, LEASE_NS, n.leaseObject(config, now));
          LOG.debug("{}: lease created", n.name);
          return;
        } catch (ApiException e) {
          if (!e.isConflict()) {
            throw e;
          }
          lease = clientFor(n.name).get(Resource.LEASES, LEASE_NS, n.name);
        }
      }
      try {
        n.lease = clientFor(n.name).update(Resource.LEASES, renewed(n, lease, now));
      } catch (ApiException e) {
        if (e.isNotFound()) {
          n.lease = clientFor(n.name).create(Resource.LEASES, LEASE_NS, n.leaseObject(config, now));
        } else if (e.isConflict()) {
          // Someone else wrote it (or our copy is stale): renew the current version once.
          ObjectNode current = clientFor(n.name).get(Resource.LEASES, LEASE_NS, n.name);
          n.lease = clientFor(n.name).update(Resource.LEASES, renewed(n, current, now));
        } else {
          throw e;
        }
      }
    } catch (RuntimeException e) {
      n.lease = null;
      if (closed) {
        return; // Interrupted by close(): the silence is intended.
      }
      leaseFailures.failed(
          n.name, e.getMessage(), "next try in " + PodRuntime.human(config.leaseRenewInterval()));
    }
  }

  private ObjectNode renewed(SimNode n, ObjectNode lease, Instant now) {
    ObjectNode next = lease.deepCopy();
    ObjectNode fresh = n.leaseObject(config, now);
    next.set("spec", fresh.get("spec"));
    JsonNode owners = Meta.metadata(next).get("ownerReferences");
    if ((owners == null || owners.isEmpty()) && fresh.path("metadata").has("ownerReferences")) {
      Meta.metadata(next).set("ownerReferences", fresh.path("metadata").get("ownerReferences"));
    }
    return next;
  }

  /** Posts the node's conditions with a fresh heartbeat (re-registers a Node that was deleted). */
  void reportStatus(SimNode n) {
    if (closed || !n.running || !n.registered) {
      return;
    }
    try {
      Instant now = clock.instant();
      ObjectNode current;
      try {
        current = clientFor(n.name).get(Resource.NODES, null, n.name);
      } catch (ApiException e) {
        if (!e.isNotFound()) {
          throw e;
        }
        LOG.warn("{}: its Node is gone; registering it again", n.name);
        n.registered = false;
        n.lease = null;
        register(n, 0);
        return;
      }
      postStatus(n, current, now);
    } catch (RuntimeException e) {
      if (closed) {
        return;
      }
      statusFailures.failed(
          n.name, e.getMessage(), "next try in " + PodRuntime.human(config.statusReportInterval()));
    }
  }

  private void postStatus(SimNode n, ObjectNode current, Instant now) {
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    patch
        .putObject("status")
        .set("conditions", n.conditions(now, current.path("status").path("conditions")));
    clientFor(n.name).patchStatus(Resource.NODES, null, n.name, PatchType.MERGE, patch);
    LOG.debug("{}: node status posted", n.name);
  }

  // ------------------------------------------------------------------------------ pods

  private void offer(ObjectNode pod) {
    if (nodes.containsKey(pod.path("spec").path("nodeName").asText(""))) {
      podLoop.enqueue(Meta.key(pod));
    }
  }

  /** Moves one pod along: admission, container starts/exits/restarts, stop, final delete. */
  private void reconcilePod(String key) {
    ObjectNode pod = pods.indexer().get(key);
    PodRuntime rt = runtimes.get(key);
    if (pod == null) {
      if (rt != null) {
        forget(rt);
        if (rt.deleteRequested) {
          LOG.debug("{} pod {}: gone", rt.node.name, key);
        } else {
          LOG.info("{} pod {}: deleted (the pod object is gone)", rt.node.name, key);
        }
      }
      return;
    }
    SimNode node = nodes.get(pod.path("spec").path("nodeName").asText(""));
    if (node == null || !node.running) {
      return;
    }
    if (rt != null && !rt.uid.equals(Meta.uid(pod))) {
      forget(rt);
      rt = null;
    }
    Instant now = clock.instant();
    boolean deleting = Meta.isBeingDeleted(pod);
    if (rt == null) {
      String phase = pod.path("status").path("phase").asText("");
      if (phase.equals("Succeeded") || phase.equals("Failed")) {
        // Finished before this process started; nothing runs. A deletion finishes at once.
        if (deleting) {
          deletePod(pod, node);
        }
        return;
      }
      rt = admit(pod, node, now);
    }
    PodRuntime.Listener l = listener(pod, rt);
    if (deleting) {
      rt.kill(
          now,
          pod.path("metadata").path("deletionGracePeriodSeconds").asLong(30),
          config.maxGracePeriod(),
          l);
    }
    rt.advance(now, config, l);
    if (rt.terminal() && rt.podIp != null && !rt.ipReleased) {
      // The sandbox is gone: its IP may go to the next pod (the status keeps showing it).
      node.releaseIp(rt.podIp);
      rt.ipReleased = true;
    }
    ObjectNode status = rt.status(pod, now);
    if (!status.equals(rt.lastWritten) && !status.equals(pod.get("status"))) {
      ObjectNode patch = KubeClient.JSON.createObjectNode();
      patch.putObject("metadata").put("uid", rt.uid);
      patch.set("status", status);
      try {
        // The answer (the whole pod) is not read: the pod informer brings the new version.
        clientFor(node.name)
            .patchStatusIgnoringAnswer(
                Resource.PODS, namespace(key), name(key), PatchType.MERGE, patch);
      } catch (ApiException e) {
        if (e.isNotFound()) {
          return; // Deleted meanwhile: the informer's delete event cleans up.
        }
        throw e;
      }
    }
    rt.lastWritten = status;
    String summary = rt.summary(now, deleting);
    if (!summary.equals(rt.lastLogged)) {
      List<String> why = new ArrayList<>(rt.notes);
      if (rt.podIp != null && status.has("podIP") && !rt.ipLogged) {
        why.add("ip " + rt.podIp);
        rt.ipLogged = true;
      }
      LOG.info(
          "{} pod {}: {} → {}{}",
          node.name,
          key,
          rt.lastLogged == null ? (rt.adopted ? "found after restart" : "admitted") : rt.lastLogged,
          summary,
          why.isEmpty() ? "" : " (" + String.join(", ", why) + ")");
      rt.lastLogged = summary;
      rt.notes.clear();
    }
    if (rt.killed && !rt.deleteRequested) {
      rt.deleteRequested = deletePod(pod, node);
      return;
    }
    Instant next = rt.nextWakeUp(now);
    if (next != null) {
      podLoop.enqueueAfter(key, Duration.between(now, next).plusMillis(1));
    }
  }

  private PodRuntime admit(ObjectNode pod, SimNode node, Instant now) {
    String key = Meta.key(pod);
    PodRuntime rt = new PodRuntime(pod, node, now, config.podStartupDelay());
    boolean wasRunning = false;
    for (JsonNode cs : pod.path("status").path("containerStatuses")) {
      wasRunning |= cs.hasNonNull("containerID");
    }
    if (wasRunning) {
      rt.adopt(pod);
    }
    if (rt.podIp == null) {
      rt.podIp = node.allocateIp();
      if (rt.podIp == null) {
        recorder(node)
            .warning(
                podRef(pod),
                "FailedCreatePodSandBox",
                "Failed to create pod sandbox: no free IP in " + node.podCidr);
        throw new IllegalStateException(
            "node " + node.name + " has no free pod IP in " + node.podCidr + " for pod " + key);
      }
    }
    runtimes.put(key, rt);
    return rt;
  }

  /** Removes the pod object once its containers stopped (grace period 0, this pod's uid only). */
  private boolean deletePod(ObjectNode pod, SimNode node) {
    ObjectNode options = KubeClient.JSON.createObjectNode();
    options.put("apiVersion", "v1").put("kind", "DeleteOptions").put("gracePeriodSeconds", 0);
    options.putObject("preconditions").put("uid", Meta.uid(pod));
    try {
      clientFor(node.name).delete(Resource.PODS, Meta.namespace(pod), Meta.name(pod), options);
      LOG.info("{} pod {}: containers stopped, pod removed", node.name, Meta.key(pod));
    } catch (ApiException e) {
      if (!e.isNotFound() && !e.isConflict()) {
        throw e;
      }
      // Gone already, or replaced by a new pod of that name (its uid differs): nothing to delete.
    }
    return true;
  }

  /** A container's log on one of this process's nodes, or null. */
  private ContainerLog findLog(String namespace, String pod, String container) {
    PodRuntime rt = runtimes.get(namespace + "/" + pod);
    if (rt == null) {
      return null;
    }
    for (PodRuntime.ContainerRt c : rt.containers) {
      if (c.name.equals(container)) {
        return c.log;
      }
    }
    return null;
  }

  private void forget(PodRuntime rt) {
    runtimes.remove(rt.key, rt);
    rt.containers.forEach(c -> c.log.end());
    if (rt.podIp != null && !rt.ipReleased) {
      rt.node.releaseIp(rt.podIp);
      rt.ipReleased = true;
    }
  }

  private EventRecorder recorder(SimNode n) {
    return nodeEvents.computeIfAbsent(n.name, events::withHost);
  }

  /** A reference-sized copy of the pod with kind and apiVersion, for events. */
  private static ObjectNode podRef(ObjectNode pod) {
    ObjectNode ref = KubeClient.JSON.createObjectNode();
    ref.put("apiVersion", "v1").put("kind", "Pod");
    ref.set("metadata", pod.get("metadata"));
    return ref;
  }

  private PodRuntime.Listener listener(ObjectNode pod, PodRuntime rt) {
    ObjectNode ref = podRef(pod);
    EventRecorder r = config.podEvents() ? recorder(rt.node) : null;
    return new PodRuntime.Listener() {
      @Override
      public void pulling(PodRuntime.ContainerRt c) {
        c.pullNeeded =
            !c.pullPolicy.equals("Never")
                && (c.pullPolicy.equals("Always") | rt.node.pullImage(c.imageRef));
        if (c.pullNeeded) {
          normal(r, ref, "Pulling", "Pulling image \"" + c.image + "\"");
        }
      }

      @Override
      public void pulled(PodRuntime.ContainerRt c) {
        if (c.pullNeeded) {
          String took = PodRuntime.human(config.podStartupDelay());
          normal(
              r,
              ref,
              "Pulled",
              "Successfully pulled image \""
                  + c.image
                  + "\" in "
                  + took
                  + " ("
                  + took
                  + " including waiting)");
        } else {
          normal(
              r, ref, "Pulled", "Container image \"" + c.image + "\" already present on machine");
        }
      }

      @Override
      public void created(PodRuntime.ContainerRt c) {
        normal(r, ref, "Created", "Created container: " + c.name);
      }

      @Override
      public void started(PodRuntime.ContainerRt c) {
        normal(r, ref, "Started", "Started container " + c.name);
        Instant now = clock.instant();
        c.log.newInstance();
        c.log.append(
            now,
            "kubelite: simulated container "
                + c.name
                + " of pod "
                + rt.key
                + " started on node "
                + rt.node.name
                + " from image "
                + c.image
                + (c.restartCount > 0 ? " (restart " + c.restartCount + ")" : ""));
        c.log.append(
            now,
            "kubelite: no process runs in a simulated container; the simulated kubelet writes"
                + " these lines");
        if (c.exitAfterSeconds != null) {
          c.log.append(
              now,
              "kubelite: will exit with code "
                  + c.exitCode
                  + " after "
                  + c.exitAfterSeconds
                  + " s ("
                  + PodRuntime.EXIT_AFTER
                  + ")");
        }
      }

      @Override
      public void exited(PodRuntime.ContainerRt c, int exitCode) {
        rt.notes.add(c.name + " exited with code " + exitCode);
        c.log.append(clock.instant(), "kubelite: exited with code " + exitCode);
        c.log.end();
      }

      @Override
      public void backOff(PodRuntime.ContainerRt c, Duration delay) {
        warning(
            r,
            ref,
            "BackOff",
            "Back-off restarting failed container " + c.name + " in pod " + rt.podRef());
      }

      @Override
      public void killing(PodRuntime.ContainerRt c) {
        normal(r, ref, "Killing", "Stopping container " + c.name);
        c.log.append(
            clock.instant(), "kubelite: received SIGTERM (the pod is being deleted); stopping");
        c.log.end();
      }
    };
  }

  private static void normal(EventRecorder r, ObjectNode ref, String reason, String message) {
    if (r != null) {
      r.normal(ref, reason, message);
    }
  }

  private static void warning(EventRecorder r, ObjectNode ref, String reason, String message) {
    if (r != null) {
      r.warning(ref, reason, message);
    }
  }

  private static String namespace(String key) {
    return key.substring(0, key.indexOf('/'));
  }

  private static String name(String key) {
    return key.substring(key.indexOf('/') + 1);
  }

  /** For tests: how many pod IPs each node has handed out and not yet released. */
  int usedIps(String nodeName) {
    return node(nodeName).usedIpCount();
  }
}

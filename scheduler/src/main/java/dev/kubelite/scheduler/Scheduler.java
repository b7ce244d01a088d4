package dev.kubelite.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.events.EventRecorder;
import dev.kubelite.client.leaderelection.LeaderElector;
import dev.kubelite.scheduler.cache.SchedulerCache;
import dev.kubelite.scheduler.framework.Framework;
import dev.kubelite.scheduler.framework.PodInfo;
import dev.kubelite.scheduler.framework.ScorePlugin;
import dev.kubelite.scheduler.plugins.DefaultPlugins;
import dev.kubelite.scheduler.queue.SchedulingQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler: assigns pending pods to nodes, talking only to the API server.
 *
 * <pre>
 * informers (pods, nodes) ──► cache (nodes + bound/assumed pods)
 *        │ pending pods           ▲ assume / forget
 *        ▼                        │
 *   SchedulingQueue ──pop──► scheduling loop: Framework (filters, scores) on a cache snapshot
 *        ▲                        │ chosen node
 *        └── unschedulable/backoff ◄── binder threads: POST pods/&lt;name&gt;/binding, events
 * </pre>
 *
 * One thread runs the scheduling cycles, one at a time, so each decision sees the previous ones
 * (assumed in the cache); bindings are written by a small pool so the loop never waits for the API
 * server. With leader election only the leader schedules; the others keep their caches warm.
 */
public final class Scheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

  public static final String DEFAULT_SCHEDULER_NAME = "default-scheduler";

  /**
   * Bindings in flight at once. kube-scheduler binds each pod in its own goroutine; here each
   * binding is a blocking call, so the pool bounds the binding rate to threads / API latency: 8
   * threads at ~100 ms per call on a loaded API server capped the scheduler near 80 pods/s
   * (decision 0065). Under the API server's default per-client cap of 100 requests in flight.
   */
  public static final int DEFAULT_BIND_THREADS = 32;

  /**
   * @param schedulerName the {@code spec.schedulerName} this scheduler serves
   * @param leaderElection null to schedule without leader election
   * @param initialBackoff first retry delay of a pod that failed (kube-scheduler: 1 s)
   * @param maxBackoff retry delay cap (kube-scheduler: 10 s)
   * @param bindThreads how many bindings may be in flight at once
   */
  public record Options(
      String schedulerName,
      LeaderElector.Config leaderElection,
      Duration initialBackoff,
      Duration maxBackoff,
      int bindThreads) {
    public static Options defaults() {
      return new Options(
          DEFAULT_SCHEDULER_NAME,
          null,
          Duration.ofSeconds(1),
          Duration.ofSeconds(10),
          DEFAULT_BIND_THREADS);
    }

    public Options withLeaderElection(LeaderElector.Config c) {
      return new Options(schedulerName, c, initialBackoff, maxBackoff, bindThreads);
    }

    public Options withBackoff(Duration initial, Duration max) {
      return new Options(schedulerName, leaderElection, initial, max, bindThreads);
    }
  }

  private final KubeClient client;
  private final Options options;
  private final Informer pods;
  private final Informer nodes;
  private final SchedulerCache cache = new SchedulerCache();

  /** The scheduling loop's view of the cache, updated incrementally before each cycle. */
  private SchedulerCache.Snapshot snapshot;

  private final SchedulingQueue queue;
  private final Framework framework = DefaultPlugins.framework(new Random());
  private final EventRecorder events;
  private final ExecutorService binder;
  private final LeaderElector elector;
  private final Thread loop;
  private final Object activeLock = new Object();
  private volatile boolean active;
  private volatile boolean closed;
  private final AtomicLong bindings = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong lostBindings = new AtomicLong();

  public Scheduler(KubeClient client, Options options) {
    this.client = client.withUserAgent("kube-scheduler");
    this.options = options;
    this.queue =
        new SchedulingQueue(
            options.initialBackoff(),
            options.maxBackoff(),
            Duration.ofMinutes(5),
            System::nanoTime);
    // Finished pods hold no resources: kube-scheduler watches only pods that are not terminal.
    this.pods =
        new Informer(
            client,
            Resource.PODS,
            null,
            Informer.Options.defaults()
                .withSelectors(ListOptions.fields("status.phase!=Succeeded,status.phase!=Failed")));
    this.nodes = new Informer(client, Resource.NODES, null, Informer.Options.defaults());
    this.events = new EventRecorder(this.client, options.schedulerName(), null);
    AtomicInteger n = new AtomicInteger();
    this.binder =
        Executors.newFixedThreadPool(
            options.bindThreads(),
            r -> {
              Thread t = new Thread(r, "binder-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.elector =
        options.leaderElection() == null
            ? null
            : new LeaderElector(
                client,
                options.leaderElection(),
                new LeaderElector.Callbacks() {
                  @Override
                  public void onStartedLeading() {
                    LOG.info("became leader: scheduling pods");
                    setActive(true);
                  }

                  @Override
                  public void onStoppedLeading() {
                    LOG.info("stopped leading: no longer scheduling pods");
                    setActive(false);
                  }

                  @Override
                  public void onNewLeader(String identity) {
                    LOG.info("the scheduler leader is {}", identity);
                  }
                });
    this.loop = new Thread(this::run, "scheduler");
    this.loop.setDaemon(true);
    pods.addEventHandler(new PodHandler());
    nodes.addEventHandler(new NodeHandler());
  }

  /** Starts the informers, the election (if configured) and the scheduling loop. */
  public void start() {
    pods.start();
    nodes.start();
    if (elector == null) {
      setActive(true);
    } else {
      elector.start();
    }
    loop.start();
  }

  /** Whether this instance schedules now (leader, or no election). */
  public boolean isActive() {
    return active;
  }

  /** How many bindings this instance has written. */
  public long bindings() {
    return bindings.get();
  }

  /** How many bindings were refused because the pod was gone or already bound (by someone else). */
  public long lostBindings() {
    return lostBindings.get();
  }

  /** How many scheduling attempts found no node. */
  public long failures() {
    return failures.get();
  }

  public SchedulingQueue queue() {
    return queue;
  }

  public SchedulerCache cache() {
    return cache;
  }

  private void setActive(boolean a) {
    synchronized (activeLock) {
      active = a;
      activeLock.notifyAll();
    }
  }

  private void run() {
    try {
      // No scheduling decision before the pod and node caches have listed (client-go's
      // WaitForCacheSync): an unsynced node cache reads as "no node fits".
      if (!(pods.hasSynced() && nodes.hasSynced())) {
        LOG.info("waiting for caches to sync (pods, nodes)");
      }
      synchronized (activeLock) {
        while (!closed && !(active && pods.hasSynced() && nodes.hasSynced())) {
          activeLock.wait(100);
        }
      }
      LOG.info("caches synced: {} nodes; scheduling pods", cache.snapshot().size());
      while (!closed) {
        synchronized (activeLock) {
          while (!closed && !active) {
            activeLock.wait(1000);
          }
        }
        SchedulingQueue.Popped p = queue.pop();
        if (p == null) {
          return;
        }
        try {
          scheduleOne(p);
        } catch (RuntimeException e) {
          LOG.error("scheduling {} failed unexpectedly; retrying after backoff", p.key(), e);
          queue.backoff(p);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void scheduleOne(SchedulingQueue.Popped p) {
    ObjectNode pod = pods.indexer().get(p.key());
    if (pod == null || !pending(pod) || cache.hasPod(p.key())) {
      queue.done(p.key());
      return;
    }
    if (!active) {
      queue.backoff(p);
      return;
    }
    PodInfo info;
    try {
      info = PodInfo.of(pod);
    } catch (IllegalArgumentException e) {
      failures.incrementAndGet();
      String msg = "invalid resource requests: " + e.getMessage();
      queue.unschedulable(p);
      LOG.info(
          "{} not scheduled (attempt {}): {}; waiting for the pod to change",
          p.key(),
          p.attempts(),
          msg);
      events.warning(pod, "FailedScheduling", msg);
      return;
    }
    if (snapshot == null) {
      snapshot = cache.newSnapshot();
    } else {
      cache.updateSnapshot(snapshot);
    }
    Framework.Decision d = framework.schedule(info, snapshot.nodes());
    if (d.node() == null) {
      failures.incrementAndGet();
      Duration backoff = queue.unschedulable(p);
      LOG.info(
          "{} not scheduled (attempt {}): {} Retry after a cluster change (backoff {}).",
          p.key(),
          p.attempts(),
          d.failure().endsWith(".") ? d.failure() : d.failure() + ".",
          human(backoff));
      events.warning(pod, "FailedScheduling", d.failure());
      submit(() -> markUnschedulable(pod, d.failure()));
      return;
    }
    cache.assume(info, d.node());
    submit(() -> bind(p, pod, d));
  }

  private void submit(Runnable r) {
    try {
      binder.execute(r);
    } catch (RejectedExecutionException e) {
      LOG.debug("scheduler closed; dropped a binding task");
    }
  }

  private void bind(SchedulingQueue.Popped p, ObjectNode pod, Framework.Decision d) {
    String ns = Meta.namespace(pod);
    String name = Meta.name(pod);
    if (!active) {
      cache.forget(p.key());
      queue.backoff(p);
      LOG.info("{} → {} not bound: this scheduler stopped leading", p.key(), d.node());
      return;
    }
    ObjectNode binding = KubeClient.JSON.createObjectNode();
    binding.put("apiVersion", "v1").put("kind", "Binding");
    ObjectNode meta = binding.putObject("metadata").put("name", name).put("namespace", ns);
    if (Meta.uid(pod) != null) {
      meta.put("uid", Meta.uid(pod));
    }
    binding.putObject("target").put("apiVersion", "v1").put("kind", "Node").put("name", d.node());
    try {
      client.subresource("POST", Resource.PODS, ns, name, "binding", binding);
    } catch (ApiException e) {
      cache.forget(p.key());
      if (e.code() == 404 || e.isConflict()) {
        // Gone, being deleted or bound meanwhile (by another scheduler): the informer will tell.
        lostBindings.incrementAndGet();
        queue.done(p.key());
        LOG.info("{} → {} not bound: {}", p.key(), d.node(), e.getMessage());
        return;
      }
      bindFailed(p, pod, d, e.getMessage());
      return;
    } catch (RuntimeException e) {
      cache.forget(p.key());
      bindFailed(p, pod, d, e.getMessage());
      return;
    }
    bindings.incrementAndGet();
    queue.done(p.key());
    LOG.info(
        "{} → {} (score {}: {}; {} of {} nodes fit{}; attempt {})",
        p.key(),
        d.node(),
        d.score(),
        breakdown(d.scores()),
        d.feasible(),
        d.allNodes(),
        d.evaluated() < d.allNodes() ? ", " + d.evaluated() + " checked" : "",
        p.attempts());
    events.normal(pod, "Scheduled", "Successfully assigned " + ns + "/" + name + " to " + d.node());
  }

  private void bindFailed(
      SchedulingQueue.Popped p, ObjectNode pod, Framework.Decision d, String why) {
    failures.incrementAndGet();
    Duration backoff = queue.backoff(p);
    LOG.warn(
        "{} → {} binding failed (attempt {}): {}; retry after {}",
        p.key(),
        d.node(),
        p.attempts(),
        why,
        human(backoff));
    events.warning(pod, "FailedScheduling", "Binding rejected: " + why);
  }

  /** Sets the PodScheduled=False condition (what kubectl describe shows), if it changed. */
  private void markUnschedulable(ObjectNode pod, String message) {
    for (JsonNode c : pod.path("status").path("conditions")) {
      if ("PodScheduled".equals(c.path("type").asText())
          && "False".equals(c.path("status").asText())
          && "Unschedulable".equals(c.path("reason").asText())
          && message.equals(c.path("message").asText())) {
        return;
      }
    }
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    ObjectNode c = patch.putObject("status").putArray("conditions").addObject();
    c.put("type", "PodScheduled").put("status", "False").putNull("lastProbeTime");
    c.put("lastTransitionTime", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    c.put("reason", "Unschedulable").put("message", message);
    try {
      client.patchStatus(
          Resource.PODS, Meta.namespace(pod), Meta.name(pod), PatchType.STRATEGIC, patch);
    } catch (ApiException e) {
      if (e.code() != 404) {
        LOG.warn("cannot set PodScheduled=False on {}: {}", Meta.key(pod), e.getMessage());
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot set PodScheduled=False on {}: {}", Meta.key(pod), e.getMessage());
    }
  }

  private boolean pending(JsonNode pod) {
    return pod.path("spec").path("nodeName").asText("").isEmpty()
        && !Meta.isBeingDeleted(pod)
        && options.schedulerName().equals(schedulerName(pod));
  }

  private static String schedulerName(JsonNode pod) {
    String s = pod.path("spec").path("schedulerName").asText("");
    return s.isEmpty() ? DEFAULT_SCHEDULER_NAME : s;
  }

  private static boolean assigned(JsonNode pod) {
    return !pod.path("spec").path("nodeName").asText("").isEmpty();
  }

  private static int priority(JsonNode pod) {
    return pod.path("spec").path("priority").asInt(0);
  }

  /** {@code LeastAllocated=80 BalancedAllocation=95 OwnerSpread=100×2}. */
  private String breakdown(Map<String, Long> scores) {
    StringBuilder b = new StringBuilder();
    for (ScorePlugin p : framework.scorers()) {
      Long v = scores.get(p.name());
      if (v != null) {
        b.append(b.length() == 0 ? "" : " ").append(p.name()).append('=').append(v);
        if (p.weight() != 1) {
          b.append('×').append(p.weight());
        }
      }
    }
    return b.toString();
  }

  private static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  /** Pods: bound ones feed the cache, pending ones of this scheduler feed the queue. */
  private final class PodHandler implements EventHandler {
    @Override
    public void onAdd(ObjectNode pod) {
      if (assigned(pod)) {
        addToCache(pod);
        queue.delete(Meta.key(pod));
      } else if (pending(pod)) {
        queue.add(Meta.key(pod), priority(pod));
      }
    }

    @Override
    public void onUpdate(ObjectNode old, ObjectNode pod) {
      String key = Meta.key(pod);
      if (assigned(pod)) {
        if (cache.hasPod(key)
            && !cache.isAssumed(key)
            && old.path("spec").equals(pod.path("spec"))
            && old.path("metadata")
                .path("ownerReferences")
                .equals(pod.path("metadata").path("ownerReferences"))) {
          // A status change of a pod already counted (the kubelet's writes): nothing the
          // filters or scores read has changed.
          return;
        }
        addToCache(pod);
        queue.delete(key);
      } else if (pending(pod)) {
        boolean changed =
            !old.path("spec").equals(pod.path("spec"))
                || !old.path("metadata").path("labels").equals(pod.path("metadata").path("labels"))
                || !old.path("metadata")
                    .path("annotations")
                    .equals(pod.path("metadata").path("annotations"));
        queue.update(key, priority(pod), changed);
      } else {
        queue.delete(key);
      }
    }

    @Override
    public void onDelete(ObjectNode pod) {
      String key = Meta.key(pod);
      queue.delete(key);
      if (cache.hasPod(key)) {
        cache.removePod(key);
        // Its resources are free now: pods that did not fit may fit.
        queue.moveAllToActiveOrBackoff();
      }
    }

    private void addToCache(ObjectNode pod) {
      try {
        cache.addPod(PodInfo.of(pod));
      } catch (IllegalArgumentException e) {
        LOG.warn(
            "pod {} on node {} has invalid resource requests ({}): counted as requesting nothing",
            Meta.key(pod),
            pod.path("spec").path("nodeName").asText(),
            e.getMessage());
        ObjectNode stripped = pod.deepCopy();
        for (JsonNode c : stripped.path("spec").path("containers")) {
          ((ObjectNode) c).remove("resources");
        }
        for (JsonNode c : stripped.path("spec").path("initContainers")) {
          ((ObjectNode) c).remove("resources");
        }
        ((ObjectNode) stripped.path("spec")).remove("overhead");
        cache.addPod(PodInfo.of(stripped));
      }
    }
  }

  /** Nodes: the cache follows them; a new or changed node may fit pods that did not fit. */
  private final class NodeHandler implements EventHandler {
    @Override
    public void onAdd(ObjectNode node) {
      cache.addNode(node);
      queue.moveAllToActiveOrBackoff();
    }

    @Override
    public void onUpdate(ObjectNode old, ObjectNode node) {
      cache.updateNode(node);
      if (!schedulingView(old).equals(schedulingView(node))) {
        queue.moveAllToActiveOrBackoff();
      }
    }

    @Override
    public void onDelete(ObjectNode node) {
      cache.removeNode(Meta.name(node));
    }

    /** What the filters look at (heartbeat timestamps left out). */
    private ObjectNode schedulingView(ObjectNode node) {
      ObjectNode v = KubeClient.JSON.createObjectNode();
      v.set("labels", node.path("metadata").path("labels"));
      v.set("spec", node.path("spec"));
      v.set("allocatable", node.path("status").path("allocatable"));
      ObjectNode conditions = v.putObject("conditions");
      for (JsonNode c : node.path("status").path("conditions")) {
        conditions.put(c.path("type").asText(), c.path("status").asText());
      }
      return v;
    }
  }

  @Override
  public void close() {
    closed = true;
    setActive(false);
    if (elector != null) {
      elector.close();
    }
    queue.close();
    loop.interrupt();
    try {
      loop.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    binder.shutdown();
    try {
      if (!binder.awaitTermination(10, TimeUnit.SECONDS)) {
        binder.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pods.close();
    nodes.close();
    events.close();
  }
}

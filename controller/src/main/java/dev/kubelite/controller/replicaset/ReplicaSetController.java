package dev.kubelite.controller.replicaset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Indexer;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.events.EventRecorder;
import dev.kubelite.client.workqueue.ReconcileLoop;
import dev.kubelite.controller.Controller;
import dev.kubelite.controller.ControllerRefs;
import dev.kubelite.controller.LabelSelector;
import dev.kubelite.controller.Pods;
import dev.kubelite.controller.SharedInformers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ReplicaSet controller: keeps {@code spec.replicas} active pods matching each ReplicaSet's
 * selector, as Kubernetes' does. Pods it creates carry a controller reference; matching orphans are
 * adopted and pods that stop matching are released. Creates go in slow-start batches (1, 2, 4, ...,
 * stopping at the first failure); deletes pick the least useful pods first (unscheduled, pending,
 * not ready, newest). Expectations keep a reconcile from acting again on changes the informer has
 * not shown yet. Status ({@code replicas}, {@code fullyLabeledReplicas}, {@code readyReplicas},
 * {@code availableReplicas}, {@code observedGeneration}, the {@code ReplicaFailure} condition) is
 * written through {@code /status}.
 */
public final class ReplicaSetController implements Controller {
  public static final String NAME = "replicaset";
  public static final String COMPONENT = "replicaset-controller";

  /** At most this many creates or deletes per reconcile (Kubernetes' burstReplicas). */
  static final int BURST_REPLICAS = 500;

  /**
   * Creates and deletes in flight at once. Kubernetes runs a whole slow-start batch concurrently
   * (up to 500 goroutines); each write here is a blocking call, so the pool bounds the create rate
   * to threads / API latency: 16 threads at ~150 ms per create on a loaded API server gave ~110
   * pods/s (decision 0065).
   */
  static final int WRITERS = 32;

  private static final Logger log = LoggerFactory.getLogger(COMPONENT);
  private static final String ORPHAN_INDEX = "orphans-by-namespace";

  private final KubeClient client;
  private final Clock clock;
  private final Informer replicaSets;
  private final Informer pods;
  private final SharedInformers.Handle podsHandle;
  private final ReconcileLoop loop;
  private final EventRecorder events;
  private final Expectations expectations;
  private final OwnedPods ownedPods = new OwnedPods();
  private final ExecutorService writers;
  private final AtomicBoolean closed = new AtomicBoolean();

  public ReplicaSetController(KubeClient client, int workers) {
    this(client, workers, null, Clock.systemUTC());
  }

  /** With the pod informer shared through {@code shared} (null: its own). */
  public ReplicaSetController(KubeClient client, int workers, SharedInformers shared) {
    this(client, workers, shared, Clock.systemUTC());
  }

  ReplicaSetController(KubeClient client, int workers, Clock clock) {
    this(client, workers, null, clock);
  }

  ReplicaSetController(KubeClient client, int workers, SharedInformers shared, Clock clock) {
    this.client = client;
    this.clock = clock;
    this.expectations = new Expectations(clock);
    this.replicaSets =
        new Informer(client, Resource.REPLICASETS, null, Informer.Options.defaults());
    this.podsHandle = SharedInformers.of(shared, client, Resource.PODS);
    this.pods = podsHandle.informer();
    this.pods
        .indexer()
        .addIndex(
            ORPHAN_INDEX,
            p ->
                ControllerRefs.controllerOf(p) == null
                    ? List.of(Objects.toString(Meta.namespace(p), ""))
                    : List.of());
    this.loop = new ReconcileLoop(COMPONENT, workers, this::reconcile);
    this.events = new EventRecorder(client, COMPONENT, null);
    this.writers =
        Executors.newFixedThreadPool(
            WRITERS,
            r -> {
              Thread t = new Thread(r, "rs-writer");
              t.setDaemon(true);
              return t;
            });
    replicaSets.addEventHandler(
        new EventHandler() {
          @Override
          public void onAdd(ObjectNode rs) {
            loop.enqueue(Meta.key(rs));
          }

          @Override
          public void onUpdate(ObjectNode old, ObjectNode rs) {
            loop.enqueue(Meta.key(rs));
          }

          @Override
          public void onDelete(ObjectNode rs) {
            expectations.forget(Meta.key(rs));
            loop.enqueue(Meta.key(rs));
          }
        });
    pods.addEventHandler(
        new EventHandler() {
          @Override
          public void onAdd(ObjectNode pod) {
            if (Meta.isBeingDeleted(pod)) {
              onDelete(pod);
              return;
            }
            ownedPods.put(pod);
            ObjectNode rs = controllerOf(pod);
            if (rs != null) {
              expectations.creationObserved(Meta.key(rs));
              loop.enqueue(Meta.key(rs));
            } else if (ControllerRefs.controllerOf(pod) == null) {
              enqueueMatching(pod);
            }
          }

          @Override
          public void onUpdate(ObjectNode old, ObjectNode pod) {
            if (Meta.resourceVersion(old) != null
                && Meta.resourceVersion(old).equals(Meta.resourceVersion(pod))) {
              return; // resync
            }
            ownedPods.put(pod);
            if (Meta.isBeingDeleted(pod) && !Meta.isBeingDeleted(old)) {
              // A graceful deletion: the pod is on its way out; count it as deleted now.
              ObjectNode rs = controllerOf(pod);
              if (rs != null) {
                expectations.deletionObserved(Meta.key(rs), Meta.key(pod));
              }
            }
            ObjectNode oldRs = controllerOf(old);
            ObjectNode rs = controllerOf(pod);
            if (oldRs != null && (rs == null || !Meta.key(oldRs).equals(Meta.key(rs)))) {
              loop.enqueue(Meta.key(oldRs));
            }
            if (rs != null) {
              loop.enqueue(Meta.key(rs));
              long minReady = rs.path("spec").path("minReadySeconds").asLong(0);
              if (minReady > 0 && !Pods.isReady(old) && Pods.isReady(pod)) {
                loop.enqueueAfter(Meta.key(rs), Duration.ofSeconds(minReady).plusMillis(100));
              }
            } else if (ControllerRefs.controllerOf(pod) == null
                && (!Meta.labels(old).equals(Meta.labels(pod)) || oldRs != null)) {
              enqueueMatching(pod);
            }
          }

          @Override
          public void onDelete(ObjectNode pod) {
            ownedPods.remove(Meta.key(pod));
            ObjectNode rs = controllerOf(pod);
            if (rs != null) {
              expectations.deletionObserved(Meta.key(rs), Meta.key(pod));
              loop.enqueue(Meta.key(rs));
            }
          }
        });
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start() {
    replicaSets.start();
    podsHandle.start();
    // No reconcile before both caches have listed: an unsynced pod cache reads as "no pods".
    loop.start(replicaSets, pods);
  }

  @Override
  public boolean hasSynced() {
    return replicaSets.hasSynced() && pods.hasSynced();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    loop.close();
    writers.shutdownNow();
    replicaSets.close();
    podsHandle.close();
    events.close();
  }

  /** The cached ReplicaSet a pod's controller reference points at (same uid), or null. */
  private ObjectNode controllerOf(JsonNode pod) {
    JsonNode ref = ControllerRefs.controllerOf(pod);
    if (ref == null || !"ReplicaSet".equals(ref.path("kind").asText())) {
      return null;
    }
    ObjectNode rs = replicaSets.indexer().get(Meta.namespace(pod), ref.path("name").asText());
    return rs != null && Objects.equals(Meta.uid(rs), ref.path("uid").asText()) ? rs : null;
  }

  /** An orphan changed: every ReplicaSet whose selector matches it may want to adopt it. */
  private void enqueueMatching(JsonNode pod) {
    Map<String, String> labels = Meta.labels(pod);
    for (ObjectNode rs : replicaSets.indexer().byIndex(Indexer.NAMESPACE, Meta.namespace(pod))) {
      try {
        if (LabelSelector.parse(rs.path("spec").path("selector")).matches(labels)) {
          loop.enqueue(Meta.key(rs));
        }
      } catch (IllegalArgumentException e) {
        // An invalid selector adopts nothing; its own reconcile reports it.
      }
    }
  }

  // ------------------------------------------------------------------------------ reconcile

  /** What one reconcile did, for its log line. */
  private static final class Did {
    final List<String> actions = new ArrayList<>();

    void add(String s) {
      actions.add(s);
    }

    @Override
    public String toString() {
      return actions.isEmpty() ? "nothing to do" : String.join("; ", actions);
    }
  }

  void reconcile(String key) throws Exception {
    ObjectNode rs = replicaSets.indexer().get(key);
    if (rs == null) {
      expectations.forget(key);
      log.debug("{}: gone; expectations forgotten", key);
      return;
    }
    String ns = Meta.namespace(rs);
    long gen = Meta.generation(rs);
    int want = rs.path("spec").path("replicas").asInt(1);
    LabelSelector selector;
    try {
      selector = LabelSelector.parse(rs.path("spec").path("selector"));
    } catch (IllegalArgumentException e) {
      log.warn("{} gen={}: invalid selector, doing nothing: {}", key, gen, e.getMessage());
      return;
    }
    boolean satisfied = expectations.satisfied(key);
    Map<String, String> templateLabels = Meta.labels(rs.path("spec").path("template"));
    long minReady = rs.path("spec").path("minReadySeconds").asLong(0);
    Instant now = clock.instant();
    // Its own pods come from the owned-pods index, a group per label set with counts: the
    // selector is evaluated once per group, no pod is visited unless it must be (decision 0059).
    Counts counts = new Counts();
    List<OwnedPods.GroupView> matching = new ArrayList<>();
    List<ObjectNode> candidates = new ArrayList<>(); // to claim: strays to release, orphans
    for (OwnedPods.GroupView g : ownedPods.groups(Meta.uid(rs))) {
      if (!ns.equals(g.namespace())) {
        continue;
      }
      if (selector.matches(g.labels())) {
        matching.add(g);
        counts.addGroup(g, templateLabels, minReady, now, ownedPods);
      } else {
        candidates.addAll(ownedPods.pods(g));
      }
    }
    for (ObjectNode p : pods.indexer().byIndex(ORPHAN_INDEX, ns)) {
      if (Pods.isActive(p) && ns.equals(Meta.namespace(p))) {
        candidates.add(p);
      }
    }
    ControllerRefs.Claimed claimed =
        ControllerRefs.claim(
            client,
            Resource.PODS,
            rs,
            "apps/v1",
            "ReplicaSet",
            selector,
            candidates,
            () -> ControllerRefs.stillOwner(client, Resource.REPLICASETS, rs));
    for (ObjectNode p : claimed.owned()) {
      counts.addPod(p, templateLabels, minReady, now);
    }
    Did did = new Did();
    if (!claimed.adopted().isEmpty()) {
      did.add("adopted " + String.join(", ", claimed.adopted()));
    }
    if (!claimed.released().isEmpty()) {
      did.add("released " + String.join(", ", claimed.released()));
    }
    Exception manageErr = null;
    int diff = counts.replicas - want;
    if (!satisfied) {
      if (diff != 0) {
        did.add("waiting for " + expectations.pending(key) + " to be observed");
      }
    } else if (Meta.isBeingDeleted(rs)) {
      if (diff != 0) {
        did.add("being deleted: not creating or deleting pods");
      }
    } else {
      manageErr = manage(key, rs, () -> owned(matching, claimed.owned()), diff, did);
    }
    ObjectNode status = status(rs, counts, manageErr, diff, now);
    boolean statusChanged = !dev.kubelite.controller.Json.same(status, rs.path("status"));
    if (statusChanged) {
      writeStatus(rs, status);
    }
    String line =
        String.format(
            "%s gen=%d want %d, have %d (ready %d, available %d): %s%s",
            key,
            gen,
            want,
            counts.replicas,
            status.path("readyReplicas").asInt(0),
            status.path("availableReplicas").asInt(0),
            did,
            statusChanged ? "; status updated" : "");
    if (did.actions.isEmpty() && !statusChanged) {
      log.debug(line);
    } else {
      log.info(line);
    }
    if (manageErr != null) {
      throw manageErr;
    }
    int ready = status.path("readyReplicas").asInt(0);
    int available = status.path("availableReplicas").asInt(0);
    if (minReady > 0 && ready > available) {
      // Check again when the pods that are ready now have been ready for minReadySeconds.
      loop.enqueueAfter(key, Duration.ofSeconds(minReady).plusMillis(100));
    }
  }

  /** The owned pods themselves, only needed to pick pods to delete. */
  private List<ObjectNode> owned(List<OwnedPods.GroupView> matching, List<ObjectNode> claimed) {
    List<ObjectNode> out = new ArrayList<>(claimed);
    for (OwnedPods.GroupView g : matching) {
      out.addAll(ownedPods.pods(g));
    }
    return out;
  }

  /** Replicas, fully labeled, ready and available among the owned pods. */
  private static final class Counts {
    int replicas;
    int fullyLabeled;
    int ready;
    int available;

    void addGroup(
        OwnedPods.GroupView g,
        Map<String, String> templateLabels,
        long minReady,
        Instant now,
        OwnedPods index) {
      if (minReady > 0 && g.ready() > 0) {
        // Availability depends on how long each pod has been ready: look at the pods.
        for (ObjectNode p : index.pods(g)) {
          addPod(p, templateLabels, minReady, now);
        }
        return;
      }
      replicas += g.size();
      if (g.labels().entrySet().containsAll(templateLabels.entrySet())) {
        fullyLabeled += g.size();
      }
      ready += g.ready();
      available += g.ready();
    }

    void addPod(ObjectNode p, Map<String, String> templateLabels, long minReady, Instant now) {
      replicas++;
      if (Meta.labels(p).entrySet().containsAll(templateLabels.entrySet())) {
        fullyLabeled++;
      }
      if (Pods.isReady(p)) {
        ready++;
        if (Pods.isAvailable(p, minReady, now)) {
          available++;
        }
      }
    }
  }

  private Exception manage(
      String key, ObjectNode rs, Supplier<List<ObjectNode>> ownedPods, int diff, Did did)
      throws InterruptedException {
    if (diff < 0) {
      int n = Math.min(-diff, BURST_REPLICAS);
      expectations.expectCreations(key, n);
      List<String> batches = new ArrayList<>();
      int created = 0;
      int attempted = 0;
      Exception first = null;
      int batch = 1;
      int remaining = n;
      while (remaining > 0) {
        int size = Math.min(batch, remaining);
        List<Future<ObjectNode>> futures = new ArrayList<>();
        for (int i = 0; i < size; i++) {
          futures.add(writers.submit(() -> createPod(rs)));
        }
        attempted += size;
        int ok = 0;
        for (Future<ObjectNode> f : futures) {
          try {
            if (f.get() == null) {
              expectations.creationObserved(key); // skipped: the namespace is terminating
            }
            ok++;
          } catch (ExecutionException e) {
            expectations.creationObserved(key);
            if (first == null) {
              first = e.getCause() instanceof Exception ex ? ex : e;
            }
          }
        }
        created += ok;
        batches.add(Integer.toString(size));
        if (first != null) {
          break;
        }
        remaining -= size;
        batch = Math.min(2 * batch, remaining);
        if (batch == 0) {
          break;
        }
      }
      // Creates never attempted will never be observed.
      for (int i = attempted; i < n; i++) {
        expectations.creationObserved(key);
      }
      did.add(
          "created "
              + created
              + " of "
              + n
              + " pods (batches "
              + String.join("+", batches)
              + ")"
              + (first == null ? "" : ", stopped: " + first.getMessage()));
      return first;
    }
    if (diff > 0) {
      List<ObjectNode> victims = new ArrayList<>(ownedPods.get());
      // The index may have changed since the counts were read: never more than it holds.
      int n = Math.min(Math.min(diff, BURST_REPLICAS), victims.size());
      victims.sort(deletionOrder());
      victims = victims.subList(0, n);
      Set<String> keys = new LinkedHashSet<>();
      victims.forEach(p -> keys.add(Meta.key(p)));
      expectations.expectDeletions(key, keys);
      List<Future<?>> futures = new ArrayList<>();
      for (ObjectNode p : victims) {
        futures.add(writers.submit(() -> deletePod(key, rs, p)));
      }
      Exception first = null;
      int deleted = 0;
      for (Future<?> f : futures) {
        try {
          f.get();
          deleted++;
        } catch (ExecutionException e) {
          if (first == null) {
            first = e.getCause() instanceof Exception ex ? ex : e;
          }
        }
      }
      List<String> names = victims.stream().map(Meta::name).toList();
      did.add(
          "deleted "
              + deleted
              + " of "
              + n
              + " pods ("
              + String.join(", ", names)
              + ")"
              + (first == null ? "" : ", failed: " + first.getMessage()));
      return first;
    }
    return null;
  }

  private ObjectNode createPod(ObjectNode rs) {
    JsonNode template = rs.path("spec").path("template");
    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.put("apiVersion", "v1").put("kind", "Pod");
    ObjectNode meta = pod.putObject("metadata");
    meta.put("generateName", Meta.name(rs) + "-").put("namespace", Meta.namespace(rs));
    for (String f : List.of("labels", "annotations", "finalizers")) {
      JsonNode v = template.path("metadata").get(f);
      if (v != null && !v.isNull()) {
        meta.set(f, v.deepCopy());
      }
    }
    meta.putArray("ownerReferences").add(ControllerRefs.reference(rs, "apps/v1", "ReplicaSet"));
    pod.set("spec", template.path("spec").deepCopy());
    try {
      ObjectNode created = client.create(Resource.PODS, Meta.namespace(rs), pod);
      events.normal(rs, "SuccessfulCreate", "Created pod: " + Meta.name(created));
      return created;
    } catch (ApiException e) {
      if (e.code() == 403 && String.valueOf(e.getMessage()).contains("is being terminated")) {
        // The namespace is going away: not an error worth an event (Kubernetes skips it too).
        return null;
      }
      events.warning(rs, "FailedCreate", "Error creating: " + e.getMessage());
      throw e;
    } catch (RuntimeException e) {
      events.warning(rs, "FailedCreate", "Error creating: " + e.getMessage());
      throw e;
    }
  }

  private Void deletePod(String key, ObjectNode rs, ObjectNode pod) {
    try {
      ObjectNode opts = KubeClient.JSON.createObjectNode();
      opts.put("apiVersion", "v1").put("kind", "DeleteOptions");
      opts.putObject("preconditions").put("uid", Meta.uid(pod));
      client.delete(Resource.PODS, Meta.namespace(pod), Meta.name(pod), opts);
      events.normal(rs, "SuccessfulDelete", "Deleted pod: " + Meta.name(pod));
      return null;
    } catch (RuntimeException e) {
      // The informer will not observe a deletion that did not happen.
      expectations.deletionObserved(key, Meta.key(pod));
      if (e instanceof ApiException ae && ae.isNotFound()) {
        return null;
      }
      events.warning(rs, "FailedDelete", "Error deleting: " + e.getMessage());
      throw e;
    }
  }

  /**
   * Pods to delete first come first: unscheduled before scheduled, Pending before Unknown before
   * Running, not ready before ready, lower {@code controller.kubernetes.io/pod-deletion-cost}
   * first, ready for a shorter time first, more restarts first, newer first (Kubernetes' ActivePods
   * ordering without the co-location rank).
   */
  static Comparator<ObjectNode> deletionOrder() {
    return Comparator.<ObjectNode>comparingInt(
            p -> p.path("spec").path("nodeName").asText("").isEmpty() ? 0 : 1)
        .thenComparingInt(
            p ->
                switch (p.path("status").path("phase").asText("")) {
                  case "Pending" -> 0;
                  case "Running" -> 2;
                  default -> 1;
                })
        .thenComparingInt(p -> Pods.isReady(p) ? 1 : 0)
        .thenComparingLong(ReplicaSetController::deletionCost)
        .thenComparing(
            p -> Pods.isReady(p) ? readySince(p) : Instant.EPOCH, Comparator.reverseOrder())
        .thenComparing(ReplicaSetController::restarts, Comparator.reverseOrder())
        .thenComparing(
            p ->
                Objects.requireNonNullElse(
                    Pods.time(p.path("metadata").path("creationTimestamp")), Instant.EPOCH),
            Comparator.reverseOrder())
        .thenComparing(Meta::name);
  }

  private static Instant readySince(JsonNode p) {
    return Objects.requireNonNullElse(
        Pods.time(Pods.readyCondition(p).path("lastTransitionTime")), Instant.EPOCH);
  }

  private static long deletionCost(JsonNode p) {
    String v = Meta.annotations(p).get("controller.kubernetes.io/pod-deletion-cost");
    if (v == null) {
      return 0;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static Integer restarts(JsonNode p) {
    int max = 0;
    for (JsonNode c : p.path("status").path("containerStatuses")) {
      max = Math.max(max, c.path("restartCount").asInt(0));
    }
    return max;
  }

  private ObjectNode status(
      ObjectNode rs, Counts counts, Exception manageErr, int diff, Instant now) {
    int fullyLabeled = counts.fullyLabeled;
    int ready = counts.ready;
    int available = counts.available;
    ObjectNode s = KubeClient.JSON.createObjectNode();
    s.put("replicas", counts.replicas);
    if (fullyLabeled > 0) {
      s.put("fullyLabeledReplicas", fullyLabeled);
    }
    if (ready > 0) {
      s.put("readyReplicas", ready);
    }
    if (available > 0) {
      s.put("availableReplicas", available);
    }
    if (Meta.generation(rs) > 0) {
      s.put("observedGeneration", Meta.generation(rs));
    }
    // The ReplicaFailure condition: set when creating or deleting failed, removed once it works.
    JsonNode failure = null;
    for (JsonNode c : rs.path("status").path("conditions")) {
      if ("ReplicaFailure".equals(c.path("type").asText())) {
        failure = c;
      }
    }
    if (manageErr != null) {
      ArrayNode conds = s.putArray("conditions");
      if (failure != null) {
        conds.add(failure.deepCopy());
      } else {
        conds
            .addObject()
            .put("type", "ReplicaFailure")
            .put("status", "True")
            .put(
                "lastTransitionTime",
                now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString())
            .put("reason", diff < 0 ? "FailedCreate" : "FailedDelete")
            .put("message", manageErr.getMessage());
      }
    }
    return s;
  }

  private void writeStatus(ObjectNode rs, ObjectNode status) {
    ArrayNode patch = KubeClient.JSON.createArrayNode();
    patch.addObject().put("op", "add").put("path", "/status").set("value", status);
    try {
      client.patchStatus(
          Resource.REPLICASETS, Meta.namespace(rs), Meta.name(rs), PatchType.JSON, patch);
    } catch (ApiException e) {
      if (!e.isNotFound()) {
        throw e;
      }
    }
  }
}

package dev.kubelite.controller.deployment;

import static dev.kubelite.controller.deployment.DeploymentUtil.HASH_LABEL;
import static dev.kubelite.controller.deployment.DeploymentUtil.REVISION;
import static dev.kubelite.controller.deployment.DeploymentUtil.replicas;

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
import dev.kubelite.controller.Json;
import dev.kubelite.controller.LabelSelector;
import dev.kubelite.controller.Pods;
import dev.kubelite.controller.SharedInformers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Deployment controller, as Kubernetes' does it: one ReplicaSet per pod template (named {@code
 * <deployment>-<pod-template-hash>}, the hash also in its labels and selector), rolled out with the
 * RollingUpdate (maxSurge/maxUnavailable) or Recreate strategy; revision annotations and history
 * cleanup ({@code revisionHistoryLimit}); proportional scaling of a rollout in progress; pause and
 * resume; the Progressing and Available conditions and the progress deadline. A rollback ({@code
 * kubectl rollout undo}) writes an old template back: the ReplicaSet with that template becomes the
 * new one again and gets the next revision.
 */
public final class DeploymentController implements Controller {
  public static final String NAME = "deployment";
  public static final String COMPONENT = "deployment-controller";

  private static final Logger log = LoggerFactory.getLogger(COMPONENT);
  private static final String CONTROLLER_INDEX = "controller-uid";
  private static final String ORPHAN_INDEX = "orphans-by-namespace";

  private final KubeClient client;
  private final Clock clock;
  private final Informer deployments;
  private final Informer replicaSets;
  private final Informer pods;
  private final SharedInformers.Handle podsHandle;
  private final ReconcileLoop loop;
  private final EventRecorder events;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * ReplicaSets and Deployments this controller wrote, until the informer shows that version: a
   * reconcile right after a write must not act on the older cached copy (it would scale twice).
   */
  private final Map<String, ObjectNode> written = new ConcurrentHashMap<>();

  public DeploymentController(KubeClient client, int workers) {
    this(client, workers, Clock.systemUTC());
  }

  /** With the pod informer shared through {@code shared} (null: its own). */
  public DeploymentController(KubeClient client, int workers, SharedInformers shared) {
    this(client, workers, shared, Clock.systemUTC());
  }

  DeploymentController(KubeClient client, int workers, Clock clock) {
    this(client, workers, null, clock);
  }

  DeploymentController(KubeClient client, int workers, SharedInformers shared, Clock clock) {
    this.client = client;
    this.clock = clock;
    this.deployments =
        new Informer(client, Resource.DEPLOYMENTS, null, Informer.Options.defaults());
    this.replicaSets =
        new Informer(client, Resource.REPLICASETS, null, Informer.Options.defaults());
    this.podsHandle = SharedInformers.of(shared, client, Resource.PODS);
    this.pods = podsHandle.informer();
    for (Informer i : List.of(replicaSets, pods)) {
      i.indexer()
          .addIndex(
              CONTROLLER_INDEX,
              o -> {
                String uid = ControllerRefs.controllerUid(o);
                return uid == null ? List.of() : List.of(uid);
              });
    }
    replicaSets
        .indexer()
        .addIndex(
            ORPHAN_INDEX,
            rs ->
                ControllerRefs.controllerOf(rs) == null
                    ? List.of(Objects.toString(Meta.namespace(rs), ""))
                    : List.of());
    this.loop = new ReconcileLoop(COMPONENT, workers, this::reconcile);
    this.events = new EventRecorder(client, COMPONENT, null);
    deployments.addEventHandler(
        new EventHandler() {
          @Override
          public void onAdd(ObjectNode d) {
            loop.enqueue(Meta.key(d));
          }

          @Override
          public void onUpdate(ObjectNode old, ObjectNode d) {
            caughtUp("deployments", d);
            loop.enqueue(Meta.key(d));
          }

          @Override
          public void onDelete(ObjectNode d) {
            written.remove("deployments/" + Meta.key(d));
            loop.enqueue(Meta.key(d));
          }
        });
    replicaSets.addEventHandler(
        new EventHandler() {
          @Override
          public void onAdd(ObjectNode rs) {
            ObjectNode d = ownerOf(rs);
            if (d != null) {
              loop.enqueue(Meta.key(d));
            } else if (ControllerRefs.controllerOf(rs) == null) {
              enqueueMatching(rs);
            }
          }

          @Override
          public void onUpdate(ObjectNode old, ObjectNode rs) {
            caughtUp("replicasets", rs);
            ObjectNode oldD = ownerOf(old);
            ObjectNode d = ownerOf(rs);
            if (oldD != null && (d == null || !Meta.key(oldD).equals(Meta.key(d)))) {
              loop.enqueue(Meta.key(oldD));
            }
            if (d != null) {
              loop.enqueue(Meta.key(d));
            } else if (ControllerRefs.controllerOf(rs) == null) {
              enqueueMatching(rs);
            }
          }

          @Override
          public void onDelete(ObjectNode rs) {
            written.remove("replicasets/" + Meta.key(rs));
            ObjectNode d = ownerOf(rs);
            if (d != null) {
              loop.enqueue(Meta.key(d));
            }
          }
        });
    pods.addEventHandler(
        new EventHandler() {
          @Override
          public void onDelete(ObjectNode pod) {
            // A Recreate rollout waits for the old pods to be gone.
            JsonNode ref = ControllerRefs.controllerOf(pod);
            if (ref == null || !"ReplicaSet".equals(ref.path("kind").asText())) {
              return;
            }
            ObjectNode rs =
                replicaSets.indexer().get(Meta.namespace(pod), ref.path("name").asText());
            ObjectNode d = rs == null ? null : ownerOf(rs);
            if (d != null && !DeploymentUtil.isRollingUpdate(d)) {
              loop.enqueue(Meta.key(d));
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
    deployments.start();
    replicaSets.start();
    podsHandle.start();
    loop.start(deployments, replicaSets, pods);
  }

  @Override
  public boolean hasSynced() {
    return deployments.hasSynced() && replicaSets.hasSynced() && pods.hasSynced();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    loop.close();
    deployments.close();
    replicaSets.close();
    podsHandle.close();
    events.close();
  }

  // ------------------------------------------------------------------------------ cache helpers

  private static long rv(JsonNode o) {
    try {
      return Long.parseLong(Objects.requireNonNullElse(Meta.resourceVersion(o), "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private void caughtUp(String resource, ObjectNode seen) {
    String k = resource + "/" + Meta.key(seen);
    written.computeIfPresent(k, (key, w) -> rv(seen) >= rv(w) ? null : w);
  }

  /** The cached object, or what this controller wrote if the cache has not seen it yet. */
  private ObjectNode fresher(String resource, ObjectNode cached) {
    if (cached == null) {
      return null;
    }
    ObjectNode w = written.get(resource + "/" + Meta.key(cached));
    return w != null && Objects.equals(Meta.uid(w), Meta.uid(cached)) && rv(w) > rv(cached)
        ? w
        : cached;
  }

  private void remember(String resource, ObjectNode obj) {
    written.put(resource + "/" + Meta.key(obj), obj);
  }

  private ObjectNode ownerOf(JsonNode rs) {
    JsonNode ref = ControllerRefs.controllerOf(rs);
    if (ref == null || !"Deployment".equals(ref.path("kind").asText())) {
      return null;
    }
    ObjectNode d = deployments.indexer().get(Meta.namespace(rs), ref.path("name").asText());
    return d != null && Objects.equals(Meta.uid(d), ref.path("uid").asText()) ? d : null;
  }

  private void enqueueMatching(JsonNode rs) {
    Map<String, String> labels = Meta.labels(rs);
    for (ObjectNode d : deployments.indexer().byIndex(Indexer.NAMESPACE, Meta.namespace(rs))) {
      try {
        if (LabelSelector.parse(d.path("spec").path("selector")).matches(labels)) {
          loop.enqueue(Meta.key(d));
        }
      } catch (IllegalArgumentException e) {
        // Reported by the Deployment's own reconcile.
      }
    }
  }

  // ------------------------------------------------------------------------------ reconcile

  /** One reconcile's working state: the Deployment (status edited in place) and what was done. */
  private final class Sync {
    final String key;
    final ObjectNode original;
    final ObjectNode d;
    final ObjectNode status;
    final List<String> did = new ArrayList<>();
    final Instant now = clock.instant();
    List<ObjectNode> rsList;
    boolean statusWritten;

    Sync(String key, ObjectNode original) {
      this.key = key;
      this.original = original;
      this.d = original.deepCopy();
      this.status = d.get("status") instanceof ObjectNode s ? s : d.putObject("status");
    }
  }

  void reconcile(String key) throws Exception {
    ObjectNode cached = fresher("deployments", deployments.indexer().get(key));
    if (cached == null) {
      log.debug("{}: gone", key);
      return;
    }
    Sync s = new Sync(key, cached);
    try {
      sync(s);
    } finally {
      logLine(s);
    }
  }

  private void logLine(Sync s) {
    JsonNode st = s.status;
    String strategy = DeploymentUtil.isRollingUpdate(s.d) ? "RollingUpdate" : "Recreate";
    String line =
        String.format(
            "%s gen=%d %s%s want %d (updated %d, ready %d, available %d, total %d): %s%s",
            s.key,
            Meta.generation(s.d),
            strategy,
            s.d.path("spec").path("paused").asBoolean(false) ? " paused" : "",
            replicas(s.d),
            st.path("updatedReplicas").asInt(0),
            st.path("readyReplicas").asInt(0),
            st.path("availableReplicas").asInt(0),
            st.path("replicas").asInt(0),
            s.did.isEmpty() ? "nothing to do" : String.join("; ", s.did),
            s.statusWritten ? "; status updated" : "");
    if (s.did.isEmpty() && !s.statusWritten) {
      log.debug(line);
    } else {
      log.info(line);
    }
  }

  private void sync(Sync s) {
    ObjectNode d = s.d;
    JsonNode selectorJson = d.path("spec").path("selector");
    LabelSelector selector;
    try {
      selector = LabelSelector.parse(selectorJson);
    } catch (IllegalArgumentException e) {
      s.did.add("invalid selector: " + e.getMessage());
      return;
    }
    if (selector.isEmpty()) {
      events.warning(
          d,
          "SelectingAll",
          "This deployment is selecting all pods. A non-empty selector is required.");
      s.did.add("empty selector: doing nothing");
      if (s.status.path("observedGeneration").asLong(0) < Meta.generation(d)) {
        s.status.put("observedGeneration", Meta.generation(d));
        writeStatus(s, s.status);
      }
      return;
    }
    s.rsList = claimReplicaSets(s, selector);
    if (Meta.isBeingDeleted(d)) {
      Rs all = replicaSetsAndSyncRevision(s, false);
      syncDeploymentStatus(s, all);
      return;
    }
    checkPausedConditions(s);
    if (d.path("spec").path("paused").asBoolean(false)) {
      scaleAndCleanup(s);
      return;
    }
    if (isScalingEvent(s)) {
      scaleAndCleanup(s);
      return;
    }
    if (DeploymentUtil.isRollingUpdate(d)) {
      rolloutRolling(s);
    } else {
      rolloutRecreate(s);
    }
  }

  private List<ObjectNode> claimReplicaSets(Sync s, LabelSelector selector) {
    List<ObjectNode> candidates = new ArrayList<>();
    // Its own ReplicaSets and the orphans of the namespace; others' are never claimed.
    List<ObjectNode> own =
        new ArrayList<>(replicaSets.indexer().byIndex(CONTROLLER_INDEX, Meta.uid(s.d)));
    own.addAll(replicaSets.indexer().byIndex(ORPHAN_INDEX, Meta.namespace(s.d)));
    for (ObjectNode rs : own) {
      if (Objects.equals(Meta.namespace(rs), Meta.namespace(s.d))) {
        candidates.add(fresher("replicasets", rs));
      }
    }
    ControllerRefs.Claimed c =
        ControllerRefs.claim(
            client,
            Resource.REPLICASETS,
            s.d,
            "apps/v1",
            "Deployment",
            selector,
            candidates,
            () -> ControllerRefs.stillOwner(client, Resource.DEPLOYMENTS, s.d));
    if (!c.adopted().isEmpty()) {
      s.did.add("adopted rs " + String.join(", ", c.adopted()));
    }
    if (!c.released().isEmpty()) {
      s.did.add("released rs " + String.join(", ", c.released()));
    }
    return new ArrayList<>(c.owned());
  }

  /** The new ReplicaSet (may be null) and the old ones. */
  private record Rs(ObjectNode newRs, List<ObjectNode> old) {
    List<ObjectNode> all() {
      List<ObjectNode> a = new ArrayList<>(old);
      if (newRs != null) {
        a.add(newRs);
      }
      return a;
    }
  }

  private static Comparator<ObjectNode> byCreation() {
    return Comparator.comparing(
            (ObjectNode rs) ->
                Objects.requireNonNullElse(
                    Pods.time(rs.path("metadata").path("creationTimestamp")), Instant.EPOCH))
        .thenComparing(Meta::name);
  }

  private ObjectNode findNewReplicaSet(Sync s) {
    List<ObjectNode> sorted = new ArrayList<>(s.rsList);
    sorted.sort(byCreation());
    JsonNode template = s.d.path("spec").path("template");
    for (ObjectNode rs : sorted) {
      if (DeploymentUtil.equalIgnoringHash(rs.path("spec").path("template"), template)) {
        return rs;
      }
    }
    return null;
  }

  /**
   * Kubernetes' getAllReplicaSetsAndSyncRevision: finds the new ReplicaSet (the one whose template
   * equals the Deployment's), raises its revision above the old ones, and creates it if asked.
   */
  private Rs replicaSetsAndSyncRevision(Sync s, boolean create) {
    ObjectNode newRs = findNewReplicaSet(s);
    List<ObjectNode> old = new ArrayList<>();
    long maxOld = 0;
    for (ObjectNode rs : s.rsList) {
      if (rs != newRs) {
        old.add(rs);
        maxOld = Math.max(maxOld, DeploymentUtil.revision(rs));
      }
    }
    long newRevision = maxOld + 1;
    ObjectNode d = s.d;
    if (newRs != null) {
      ObjectNode changes = DeploymentUtil.newReplicaSetAnnotations(d, newRs, newRevision, true);
      long minReady = d.path("spec").path("minReadySeconds").asLong(0);
      boolean minReadyChanged = newRs.path("spec").path("minReadySeconds").asLong(0) != minReady;
      if (!changes.isEmpty() || minReadyChanged) {
        ObjectNode patch = KubeClient.JSON.createObjectNode();
        ObjectNode meta = patch.putObject("metadata");
        meta.put("resourceVersion", Meta.resourceVersion(newRs));
        if (!changes.isEmpty()) {
          meta.set("annotations", changes);
        }
        if (minReadyChanged) {
          patch.putObject("spec").put("minReadySeconds", minReady);
        }
        ObjectNode updated = patchRs(newRs, patch);
        replace(s, newRs, updated);
        if (changes.has(REVISION)) {
          s.did.add("rs " + Meta.name(newRs) + " is revision " + changes.path(REVISION).asText());
        }
        newRs = updated;
      }
      setDeploymentRevision(s, Long.toString(DeploymentUtil.revision(newRs)));
      if (DeploymentUtil.hasProgressDeadline(d)
          && DeploymentUtil.condition(s.status, "Progressing") == null) {
        DeploymentUtil.setCondition(
            s.status,
            DeploymentUtil.newCondition(
                "Progressing",
                "True",
                "FoundNewReplicaSet",
                "Found new replica set \"" + Meta.name(newRs) + "\"",
                s.now));
      }
      return new Rs(newRs, old);
    }
    if (!create) {
      return new Rs(null, old);
    }
    return new Rs(createNewReplicaSet(s, old, newRevision), old);
  }

  private ObjectNode createNewReplicaSet(Sync s, List<ObjectNode> old, long newRevision) {
    ObjectNode d = s.d;
    long collisions = s.status.path("collisionCount").asLong(0);
    JsonNode dTemplate = d.path("spec").path("template");
    String hash = DeploymentUtil.hash(dTemplate, collisions);
    ObjectNode template = dTemplate.deepCopy();
    ObjectNode tmeta =
        template.get("metadata") instanceof ObjectNode m ? m : template.putObject("metadata");
    ObjectNode tlabels =
        tmeta.get("labels") instanceof ObjectNode l ? l : tmeta.putObject("labels");
    tlabels.put(HASH_LABEL, hash);
    ObjectNode selector = d.path("spec").path("selector").deepCopy();
    ObjectNode ml =
        selector.get("matchLabels") instanceof ObjectNode m ? m : selector.putObject("matchLabels");
    ml.put(HASH_LABEL, hash);

    ObjectNode rs = KubeClient.JSON.createObjectNode();
    rs.put("apiVersion", "apps/v1").put("kind", "ReplicaSet");
    ObjectNode meta = rs.putObject("metadata");
    meta.put("name", Meta.name(d) + "-" + hash).put("namespace", Meta.namespace(d));
    meta.set("labels", tlabels.deepCopy());
    meta.putArray("ownerReferences").add(ControllerRefs.reference(d, "apps/v1", "Deployment"));
    ObjectNode spec = rs.putObject("spec");
    spec.put("replicas", 0);
    if (d.path("spec").has("minReadySeconds")) {
      spec.put("minReadySeconds", d.path("spec").path("minReadySeconds").asLong(0));
    }
    spec.set("selector", selector);
    spec.set("template", template);
    List<ObjectNode> all = new ArrayList<>(old);
    all.add(rs);
    int newReplicas = newRsReplicas(d, all, rs);
    spec.put("replicas", newReplicas);
    meta.set("annotations", DeploymentUtil.newReplicaSetAnnotations(d, rs, newRevision, false));

    ObjectNode created;
    boolean alreadyExisted = false;
    try {
      created = client.create(Resource.REPLICASETS, Meta.namespace(d), rs);
    } catch (ApiException e) {
      if (e.code() != 409) {
        throw e;
      }
      ObjectNode existing = client.get(Resource.REPLICASETS, Meta.namespace(d), Meta.name(rs));
      JsonNode ref = ControllerRefs.controllerOf(existing);
      if (ref != null
          && Meta.uid(d).equals(ref.path("uid").asText())
          && DeploymentUtil.equalIgnoringHash(existing.path("spec").path("template"), dTemplate)) {
        created = existing;
        alreadyExisted = true;
      } else {
        // A hash collision: another template already has this name. Count it; the next
        // reconcile hashes with the new count and gets another name.
        s.status.put("collisionCount", collisions + 1);
        s.did.add(
            "hash collision on rs " + Meta.name(rs) + ": collisionCount now " + (collisions + 1));
        writeStatus(s, s.status);
        throw new IllegalStateException(
            "replica set "
                + Meta.name(rs)
                + " exists with another template (hash collision); retrying with collisionCount "
                + (collisions + 1));
      }
    }
    remember("replicasets", created);
    s.rsList.add(created);
    if (!alreadyExisted) {
      s.did.add("created rs " + Meta.name(created) + " (revision " + newRevision + ")");
      if (newReplicas > 0) {
        events.normal(
            d,
            "ScalingReplicaSet",
            "Scaled up replica set " + Meta.name(created) + " from 0 to " + newReplicas);
        s.did.add(
            "rs "
                + Meta.name(created)
                + " 0→"
                + newReplicas
                + (DeploymentUtil.isRollingUpdate(d)
                    ? " (scale up, maxSurge=" + DeploymentUtil.maxSurge(d) + ")"
                    : " (Recreate: scale up new)"));
      }
      if (DeploymentUtil.hasProgressDeadline(d)) {
        DeploymentUtil.setCondition(
            s.status,
            DeploymentUtil.newCondition(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                "Created new replica set \"" + Meta.name(created) + "\"",
                s.now));
      }
    }
    setDeploymentRevision(s, Long.toString(newRevision));
    return created;
  }

  /** Sets the Deployment's revision annotation (written at once; metadata, not status). */
  private void setDeploymentRevision(Sync s, String revision) {
    if (revision.equals(Meta.annotations(s.d).get(REVISION))) {
      return;
    }
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    patch.putObject("metadata").putObject("annotations").put(REVISION, revision);
    ObjectNode updated =
        client.patch(
            Resource.DEPLOYMENTS, Meta.namespace(s.d), Meta.name(s.d), PatchType.MERGE, patch);
    remember("deployments", updated);
    Meta.metadata(s.d).set("annotations", updated.path("metadata").path("annotations").deepCopy());
    s.did.add("revision " + revision);
  }

  private void replace(Sync s, ObjectNode before, ObjectNode after) {
    for (int i = 0; i < s.rsList.size(); i++) {
      if (Meta.name(s.rsList.get(i)).equals(Meta.name(before))) {
        s.rsList.set(i, after);
      }
    }
  }

  /**
   * A merge patch conditional on the resourceVersion the decision was based on. The ReplicaSet
   * controller writes status all the time; if that is all that changed (same generation, no fewer
   * available pods) the patch is retried on the fresh version instead of failing the reconcile.
   */
  private ObjectNode patchRs(ObjectNode rs, ObjectNode patch) {
    ObjectNode basis = rs;
    for (int attempt = 1; ; attempt++) {
      Meta.metadata(patch).put("resourceVersion", Meta.resourceVersion(basis));
      try {
        ObjectNode updated =
            client.patch(
                Resource.REPLICASETS, Meta.namespace(rs), Meta.name(rs), PatchType.MERGE, patch);
        remember("replicasets", updated);
        return updated;
      } catch (ApiException e) {
        if (!e.isConflict() || attempt >= 5) {
          throw e;
        }
        ObjectNode fresh = client.get(Resource.REPLICASETS, Meta.namespace(rs), Meta.name(rs));
        if (!Objects.equals(Meta.uid(fresh), Meta.uid(rs))
            || Meta.generation(fresh) != Meta.generation(rs)
            || !Meta.annotations(fresh).equals(Meta.annotations(rs))
            || fresh.path("status").path("availableReplicas").asInt(0)
                < rs.path("status").path("availableReplicas").asInt(0)) {
          throw e;
        }
        basis = fresh;
      }
    }
  }

  /**
   * How many pods the new ReplicaSet should have: for RollingUpdate as many as maxSurge allows over
   * what all ReplicaSets hold (counting, for each, the larger of its spec and the pods it still
   * has, so pods being removed count until they are gone); for Recreate the full count.
   */
  static int newRsReplicas(JsonNode d, List<ObjectNode> all, JsonNode newRs) {
    int replicas = replicas(d);
    int newCount = replicas(newRs);
    if (!DeploymentUtil.isRollingUpdate(d)) {
      return replicas;
    }
    int surge = DeploymentUtil.fenceposts(d, replicas)[0];
    int current = 0;
    for (JsonNode rs : all) {
      current += Math.max(replicas(rs), rs.path("status").path("replicas").asInt(0));
    }
    int maxTotal = replicas + surge;
    if (current >= maxTotal) {
      return newCount;
    }
    int scaleUp = Math.min(maxTotal - current, replicas - newCount);
    return newCount + Math.max(0, scaleUp);
  }

  /** Available pods an RS can be counted on for: never more than its (new) spec. */
  private static int available(JsonNode rs) {
    return Math.min(replicas(rs), rs.path("status").path("availableReplicas").asInt(0));
  }

  private boolean scaleReplicaSet(Sync s, ObjectNode rs, int newScale, String why) {
    int oldScale = replicas(rs);
    int desired = replicas(s.d);
    ObjectNode ann =
        DeploymentUtil.replicasAnnotations(rs, desired, desired + DeploymentUtil.maxSurge(s.d));
    if (oldScale == newScale && ann.isEmpty()) {
      return false;
    }
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    ObjectNode meta = patch.putObject("metadata");
    meta.put("resourceVersion", Meta.resourceVersion(rs));
    if (!ann.isEmpty()) {
      meta.set("annotations", ann);
    }
    patch.putObject("spec").put("replicas", newScale);
    ObjectNode updated = patchRs(rs, patch);
    replace(s, rs, updated);
    if (oldScale != newScale) {
      String op = newScale > oldScale ? "up" : "down";
      events.normal(
          s.d,
          "ScalingReplicaSet",
          "Scaled "
              + op
              + " replica set "
              + Meta.name(rs)
              + " from "
              + oldScale
              + " to "
              + newScale);
      s.did.add("rs " + Meta.name(rs) + " " + oldScale + "→" + newScale + " (" + why + ")");
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------------ rolling update

  private void rolloutRolling(Sync s) {
    Rs rs = replicaSetsAndSyncRevision(s, true);
    ObjectNode newRs = rs.newRs();
    if (reconcileNewReplicaSet(s, newRs)) {
      syncRolloutStatus(s, fresh(s, rs));
      return;
    }
    rs = fresh(s, rs);
    if (reconcileOldReplicaSets(s, rs)) {
      syncRolloutStatus(s, fresh(s, rs));
      return;
    }
    rs = fresh(s, rs);
    ObjectNode st = calculateStatus(s, rs);
    if (DeploymentUtil.complete(s.d, st)) {
      cleanup(s, rs.old());
    }
    syncRolloutStatus(s, fresh(s, rs));
  }

  /** The Rs split again from the (updated) working list. */
  private Rs fresh(Sync s, Rs rs) {
    ObjectNode newRs = null;
    List<ObjectNode> old = new ArrayList<>();
    for (ObjectNode o : s.rsList) {
      if (rs.newRs() != null && Meta.name(o).equals(Meta.name(rs.newRs()))) {
        newRs = o;
      } else {
        old.add(o);
      }
    }
    return new Rs(newRs, old);
  }

  private boolean reconcileNewReplicaSet(Sync s, ObjectNode newRs) {
    int desired = replicas(s.d);
    int have = replicas(newRs);
    if (have == desired) {
      return false;
    }
    if (have > desired) {
      return scaleReplicaSet(s, newRs, desired, "scale down new");
    }
    int target = newRsReplicas(s.d, s.rsList, newRs);
    return scaleReplicaSet(s, newRs, target, "scale up, maxSurge=" + DeploymentUtil.maxSurge(s.d));
  }

  private boolean reconcileOldReplicaSets(Sync s, Rs rs) {
    List<ObjectNode> oldActive = new ArrayList<>();
    int oldPods = 0;
    for (ObjectNode o : rs.old()) {
      if (replicas(o) > 0) {
        oldActive.add(o);
        oldPods += replicas(o);
      }
    }
    if (oldPods == 0) {
      return false;
    }
    int allPods = 0;
    for (ObjectNode o : s.rsList) {
      allPods += replicas(o);
    }
    int desired = replicas(s.d);
    int maxUnavailable = DeploymentUtil.maxUnavailable(s.d);
    int minAvailable = desired - maxUnavailable;
    ObjectNode newRs = rs.newRs();
    int newUnavailable = replicas(newRs) - available(newRs);
    int maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) {
      return false;
    }
    // First the old pods that are not available anyway: removing them costs no availability.
    oldActive.sort(byCreation());
    int cleaned = 0;
    for (ObjectNode o : new ArrayList<>(oldActive)) {
      if (cleaned >= maxScaledDown) {
        break;
      }
      ObjectNode cur = current(s, o);
      int unhealthy = replicas(cur) - available(cur);
      if (replicas(cur) == 0 || unhealthy <= 0) {
        continue;
      }
      int down = Math.min(maxScaledDown - cleaned, unhealthy);
      scaleReplicaSet(
          s, cur, replicas(cur) - down, "unavailable old pods, maxUnavailable=" + maxUnavailable);
      cleaned += down;
    }
    // Then as many available old pods as keep at least minAvailable available.
    int availableNow = 0;
    for (ObjectNode o : s.rsList) {
      availableNow += available(o);
    }
    int scaledDown = 0;
    if (availableNow > minAvailable) {
      int total = availableNow - minAvailable;
      for (ObjectNode o : oldActive) {
        if (scaledDown >= total) {
          break;
        }
        ObjectNode cur = current(s, o);
        if (replicas(cur) == 0) {
          continue;
        }
        int down = Math.min(replicas(cur), total - scaledDown);
        scaleReplicaSet(
            s, cur, replicas(cur) - down, "scale down, maxUnavailable=" + maxUnavailable);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  private ObjectNode current(Sync s, ObjectNode rs) {
    for (ObjectNode o : s.rsList) {
      if (Meta.name(o).equals(Meta.name(rs))) {
        return o;
      }
    }
    return rs;
  }

  // ------------------------------------------------------------------------------ recreate

  private void rolloutRecreate(Sync s) {
    Rs rs = replicaSetsAndSyncRevision(s, false);
    boolean scaledDown = false;
    for (ObjectNode o : rs.old()) {
      if (replicas(o) > 0) {
        scaledDown |= scaleReplicaSet(s, o, 0, "Recreate: old pods go first");
      }
    }
    if (scaledDown) {
      syncRolloutStatus(s, fresh(s, rs));
      return;
    }
    if (oldPodsRunning(rs)) {
      s.did.add("waiting for old pods to terminate");
      syncRolloutStatus(s, fresh(s, rs));
      return;
    }
    if (rs.newRs() == null) {
      rs = replicaSetsAndSyncRevision(s, true);
    }
    ObjectNode newRs = current(s, rs.newRs());
    scaleReplicaSet(s, newRs, replicas(s.d), "Recreate: scale up new");
    rs = fresh(s, rs);
    if (DeploymentUtil.complete(s.d, calculateStatus(s, rs))) {
      cleanup(s, rs.old());
    }
    syncRolloutStatus(s, rs);
  }

  private boolean oldPodsRunning(Rs rs) {
    for (ObjectNode o : rs.old()) {
      if (o.path("status").path("replicas").asInt(0) > 0) {
        return true;
      }
      for (ObjectNode p : pods.indexer().byIndex(CONTROLLER_INDEX, Meta.uid(o))) {
        String phase = p.path("status").path("phase").asText("");
        if (!"Failed".equals(phase) && !"Succeeded".equals(phase)) {
          return true;
        }
      }
    }
    return false;
  }

  // ------------------------------------------------------------------------------ scaling, pause

  private void checkPausedConditions(Sync s) {
    if (!DeploymentUtil.hasProgressDeadline(s.d)) {
      return;
    }
    JsonNode cond = DeploymentUtil.condition(s.status, "Progressing");
    if (cond != null && "ProgressDeadlineExceeded".equals(cond.path("reason").asText())) {
      return;
    }
    boolean paused = s.d.path("spec").path("paused").asBoolean(false);
    boolean pausedCond = cond != null && "DeploymentPaused".equals(cond.path("reason").asText());
    if (paused && !pausedCond) {
      DeploymentUtil.setCondition(
          s.status,
          DeploymentUtil.newCondition(
              "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", s.now));
      s.did.add("paused");
    } else if (!paused && pausedCond) {
      DeploymentUtil.setCondition(
          s.status,
          DeploymentUtil.newCondition(
              "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", s.now));
      s.did.add("resumed");
    }
  }

  private boolean isScalingEvent(Sync s) {
    Rs rs = replicaSetsAndSyncRevision(s, false);
    for (ObjectNode o : rs.all()) {
      if (replicas(o) <= 0) {
        continue;
      }
      Integer desired = DeploymentUtil.intAnnotation(o, DeploymentUtil.DESIRED_REPLICAS);
      if (desired != null && desired != replicas(s.d)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Kubernetes' sync for scaling events and paused Deployments: scale (proportionally during a
   * rollout), clean up old ReplicaSets when paused, and update the status.
   */
  private void scaleAndCleanup(Sync s) {
    Rs rs = replicaSetsAndSyncRevision(s, false);
    scale(s, rs);
    rs = fresh(s, rs);
    if (s.d.path("spec").path("paused").asBoolean(false)) {
      cleanup(s, rs.old());
    }
    syncDeploymentStatus(s, fresh(s, rs));
  }

  private void scale(Sync s, Rs rs) {
    int desired = replicas(s.d);
    List<ObjectNode> active = new ArrayList<>();
    for (ObjectNode o : rs.all()) {
      if (replicas(o) > 0) {
        active.add(o);
      }
    }
    // One active ReplicaSet (or none): it gets all replicas.
    if (active.size() <= 1) {
      ObjectNode target = active.isEmpty() ? rs.newRs() : active.get(0);
      if (target == null && !rs.old().isEmpty()) {
        List<ObjectNode> sorted = new ArrayList<>(rs.old());
        sorted.sort(byCreation());
        target = sorted.get(sorted.size() - 1);
      }
      if (target != null) {
        scaleReplicaSet(s, target, desired, "scale");
      }
      return;
    }
    // The new ReplicaSet is saturated: old ones go to zero.
    ObjectNode newRs = rs.newRs();
    if (newRs != null
        && replicas(newRs) == desired
        && newRs.path("status").path("availableReplicas").asInt(0) == desired) {
      for (ObjectNode o : rs.old()) {
        if (replicas(o) > 0) {
          scaleReplicaSet(s, o, 0, "new rs saturated");
        }
      }
      return;
    }
    if (!DeploymentUtil.isRollingUpdate(s.d)) {
      return;
    }
    // Proportional scaling: spread the difference over the active ReplicaSets by their size.
    int surge = DeploymentUtil.maxSurge(s.d);
    int all = 0;
    for (ObjectNode o : active) {
      all += replicas(o);
    }
    int allowed = desired > 0 ? desired + surge : 0;
    int toAdd = allowed - all;
    Comparator<ObjectNode> bySize =
        Comparator.comparingInt((ObjectNode o) -> replicas(o)).reversed();
    Comparator<ObjectNode> order =
        toAdd > 0
            ? bySize.thenComparing(byCreation().reversed())
            : bySize.thenComparing(byCreation());
    active.sort(order);
    Map<String, Integer> sizes = new HashMap<>();
    int added = 0;
    for (ObjectNode o : active) {
      int proportion = proportion(s, o, toAdd, added);
      sizes.put(Meta.name(o), replicas(o) + proportion);
      added += proportion;
    }
    if (toAdd != added && !active.isEmpty()) {
      String first = Meta.name(active.get(0));
      sizes.put(first, Math.max(0, sizes.get(first) + toAdd - added));
    }
    for (ObjectNode o : active) {
      scaleReplicaSet(
          s,
          current(s, o),
          sizes.get(Meta.name(o)),
          "proportional scaling to " + desired + ", maxSurge=" + surge);
    }
  }

  private int proportion(Sync s, ObjectNode rs, int toAdd, int added) {
    if (replicas(rs) == 0 || toAdd == 0 || toAdd == added) {
      return 0;
    }
    int fraction;
    int desired = replicas(s.d);
    if (desired == 0) {
      fraction = -replicas(rs);
    } else {
      int deploymentReplicas = desired + DeploymentUtil.maxSurge(s.d);
      Integer annotated = DeploymentUtil.intAnnotation(rs, DeploymentUtil.MAX_REPLICAS);
      int base =
          annotated != null ? annotated : s.original.path("status").path("replicas").asInt(0);
      if (base == 0) {
        fraction = 0;
      } else {
        double size = (double) replicas(rs) * deploymentReplicas / base;
        fraction = (int) Math.round(size) - replicas(rs);
      }
    }
    int allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  // ------------------------------------------------------------------------------ cleanup

  /** Deletes the oldest unused ReplicaSets beyond {@code revisionHistoryLimit}. */
  private void cleanup(Sync s, List<ObjectNode> old) {
    JsonNode limitNode = s.d.path("spec").path("revisionHistoryLimit");
    if (!limitNode.canConvertToInt()) {
      return;
    }
    int limit = limitNode.asInt();
    List<ObjectNode> cleanable = new ArrayList<>();
    for (ObjectNode o : old) {
      if (!Meta.isBeingDeleted(o)) {
        cleanable.add(o);
      }
    }
    int diff = cleanable.size() - limit;
    if (diff <= 0) {
      return;
    }
    cleanable.sort(
        Comparator.<ObjectNode>comparingLong(DeploymentUtil::revision).thenComparing(byCreation()));
    for (int i = 0; i < diff; i++) {
      ObjectNode o = cleanable.get(i);
      if (o.path("status").path("replicas").asInt(0) != 0
          || replicas(o) != 0
          || Meta.generation(o) > o.path("status").path("observedGeneration").asLong(0)) {
        continue;
      }
      ObjectNode opts = KubeClient.JSON.createObjectNode();
      opts.put("apiVersion", "v1").put("kind", "DeleteOptions");
      opts.put("propagationPolicy", "Background");
      opts.putObject("preconditions").put("uid", Meta.uid(o));
      try {
        client.delete(Resource.REPLICASETS, Meta.namespace(o), Meta.name(o), opts);
        s.did.add(
            "deleted old rs "
                + Meta.name(o)
                + " (revision "
                + DeploymentUtil.revision(o)
                + ", revisionHistoryLimit="
                + limit
                + ")");
      } catch (ApiException e) {
        if (!e.isNotFound()) {
          throw e;
        }
      }
      s.rsList.removeIf(r -> Meta.name(r).equals(Meta.name(o)));
    }
  }

  // ------------------------------------------------------------------------------ status

  private ObjectNode calculateStatus(Sync s, Rs rs) {
    int total = 0;
    int available = 0;
    int ready = 0;
    for (ObjectNode o : rs.all()) {
      total += o.path("status").path("replicas").asInt(0);
      available += o.path("status").path("availableReplicas").asInt(0);
      ready += o.path("status").path("readyReplicas").asInt(0);
    }
    int updated = rs.newRs() == null ? 0 : rs.newRs().path("status").path("replicas").asInt(0);
    int unavailable = Math.max(0, total - available);
    ObjectNode st = KubeClient.JSON.createObjectNode();
    putNonZero(st, "observedGeneration", Meta.generation(s.d));
    putNonZero(st, "replicas", total);
    putNonZero(st, "updatedReplicas", updated);
    putNonZero(st, "readyReplicas", ready);
    putNonZero(st, "availableReplicas", available);
    putNonZero(st, "unavailableReplicas", unavailable);
    if (s.status.get("conditions") instanceof ArrayNode conds && !conds.isEmpty()) {
      st.set("conditions", conds.deepCopy());
    }
    putNonZero(st, "collisionCount", s.status.path("collisionCount").asLong(0));
    int desired = replicas(s.d);
    if (available >= desired - DeploymentUtil.maxUnavailable(s.d)) {
      DeploymentUtil.setCondition(
          st,
          DeploymentUtil.newCondition(
              "Available",
              "True",
              "MinimumReplicasAvailable",
              "Deployment has minimum availability.",
              s.now));
    } else {
      DeploymentUtil.setCondition(
          st,
          DeploymentUtil.newCondition(
              "Available",
              "False",
              "MinimumReplicasUnavailable",
              "Deployment does not have minimum availability.",
              s.now));
    }
    return st;
  }

  private static void putNonZero(ObjectNode o, String field, long v) {
    if (v != 0) {
      o.put(field, v);
    }
  }

  private void syncDeploymentStatus(Sync s, Rs rs) {
    ObjectNode st = calculateStatus(s, rs);
    writeStatus(s, st);
  }

  /** Status plus the Progressing condition (complete, progressing, or past its deadline). */
  private void syncRolloutStatus(Sync s, Rs rs) {
    ObjectNode st = calculateStatus(s, rs);
    JsonNode cur = DeploymentUtil.condition(s.status, "Progressing");
    boolean completeBefore =
        st.path("replicas").asInt(0) == st.path("updatedReplicas").asInt(0)
            && cur != null
            && "NewReplicaSetAvailable".equals(cur.path("reason").asText());
    String rsName = rs.newRs() == null ? null : Meta.name(rs.newRs());
    if (DeploymentUtil.hasProgressDeadline(s.d) && !completeBefore) {
      if (DeploymentUtil.complete(s.d, st)) {
        String msg =
            rsName != null
                ? "ReplicaSet \"" + rsName + "\" has successfully progressed."
                : "Deployment \"" + Meta.name(s.d) + "\" has successfully progressed.";
        DeploymentUtil.setCondition(
            st,
            DeploymentUtil.newCondition(
                "Progressing", "True", "NewReplicaSetAvailable", msg, s.now));
      } else if (DeploymentUtil.progressing(s.original.path("status"), st)) {
        String msg =
            rsName != null
                ? "ReplicaSet \"" + rsName + "\" is progressing."
                : "Deployment \"" + Meta.name(s.d) + "\" is progressing.";
        ObjectNode c =
            DeploymentUtil.newCondition("Progressing", "True", "ReplicaSetUpdated", msg, s.now);
        if (cur != null) {
          if ("True".equals(cur.path("status").asText())) {
            c.set("lastTransitionTime", cur.path("lastTransitionTime").deepCopy());
          }
          DeploymentUtil.removeCondition(st, "Progressing");
        }
        DeploymentUtil.conditions(st).add(c);
      } else if (DeploymentUtil.timedOut(s.d, st, s.now)) {
        String msg =
            rsName != null
                ? "ReplicaSet \"" + rsName + "\" has timed out progressing."
                : "Deployment \"" + Meta.name(s.d) + "\" has timed out progressing.";
        DeploymentUtil.setCondition(
            st,
            DeploymentUtil.newCondition(
                "Progressing", "False", "ProgressDeadlineExceeded", msg, s.now));
        if (!"ProgressDeadlineExceeded".equals(cur == null ? "" : cur.path("reason").asText())) {
          events.warning(s.d, "ProgressDeadlineExceeded", msg);
          s.did.add("progress deadline exceeded");
        }
      }
    }
    writeStatus(s, st);
    requeueStuck(s, st);
  }

  /** Checks again when the progress deadline would pass, so a stuck rollout is reported. */
  private void requeueStuck(Sync s, JsonNode st) {
    JsonNode c = DeploymentUtil.condition(st, "Progressing");
    if (!DeploymentUtil.hasProgressDeadline(s.d)
        || c == null
        || DeploymentUtil.complete(s.d, st)
        || "NewReplicaSetAvailable".equals(c.path("reason").asText())
        || "ProgressDeadlineExceeded".equals(c.path("reason").asText())) {
      return;
    }
    Instant from = Pods.time(c.path("lastUpdateTime"));
    if (from == null) {
      return;
    }
    Duration after =
        Duration.between(s.now, from.plusSeconds(DeploymentUtil.progressDeadline(s.d)));
    loop.enqueueAfter(s.key, after.isNegative() ? Duration.ZERO : after.plusMillis(500));
  }

  private void writeStatus(Sync s, ObjectNode st) {
    if (Json.same(st, s.original.path("status"))) {
      s.status.removeAll();
      s.status.setAll(st);
      return;
    }
    ArrayNode patch = KubeClient.JSON.createArrayNode();
    patch.addObject().put("op", "add").put("path", "/status").set("value", st);
    try {
      ObjectNode updated =
          client.patchStatus(
              Resource.DEPLOYMENTS, Meta.namespace(s.d), Meta.name(s.d), PatchType.JSON, patch);
      remember("deployments", updated);
      s.statusWritten = true;
    } catch (ApiException e) {
      if (!e.isNotFound()) {
        throw e;
      }
    }
    s.status.removeAll();
    s.status.setAll(st);
  }
}

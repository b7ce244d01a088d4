package dev.kubelite.controller.gc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.workqueue.ReconcileLoop;
import dev.kubelite.controller.Controller;
import dev.kubelite.controller.SharedInformers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The garbage collector: cascading deletion through {@code metadata.ownerReferences}, as
 * kube-controller-manager's garbagecollector does it.
 *
 * <ul>
 *   <li>It watches every resource the API server serves that can be listed, watched and deleted
 *       (from discovery, events excluded) and keeps a graph of owners and dependents by uid.
 *   <li><b>Background</b>: an object whose owners are all gone (no object of that kind and name, or
 *       one with another uid) is deleted; one that still has a live owner only loses the references
 *       to the gone ones.
 *   <li><b>Foreground</b>: an owner being deleted with the {@code foregroundDeletion} finalizer has
 *       its dependents deleted (in the foreground themselves if they have dependents); once no
 *       dependent with {@code blockOwnerDeletion: true} is left, the finalizer is removed and the
 *       API server deletes the owner.
 *   <li><b>Orphan</b>: an owner being deleted with the {@code orphan} finalizer has its reference
 *       removed from every dependent, then the finalizer.
 * </ul>
 *
 * Work is keyed by uid on a {@link ReconcileLoop}; each reconcile that changes something logs one
 * INFO line saying what it saw and what it did.
 */
public final class GarbageCollector implements Controller {
  /** The name {@code --controllers} and the logs use. */
  public static final String NAME = "garbage-collector";

  private static final Logger log = LoggerFactory.getLogger(GarbageCollector.class);

  static final String ORPHAN = "orphan";
  static final String FOREGROUND = "foregroundDeletion";

  /**
   * @param workers concurrent reconciles (kube-controller-manager's {@code --concurrent-gc-syncs})
   * @param ignoredResources resources not collected, as {@code resource.group} ("events" and
   *     "events.events.k8s.io" by default, as Kubernetes)
   * @param resyncPeriod how often every object is checked again (zero for never)
   */
  public record Options(int workers, Set<String> ignoredResources, Duration resyncPeriod) {
    public static Options defaults() {
      return new Options(5, Set.of("events", "events.events.k8s.io"), Duration.ofMinutes(10));
    }
  }

  /** One ownerReference of an object. */
  record OwnerRef(String apiVersion, String kind, String name, String uid, boolean block) {}

  /** What the graph keeps of an object. */
  record Item(
      Resource resource,
      String apiVersion,
      String kind,
      String namespace,
      String name,
      String uid,
      List<OwnerRef> owners,
      Set<String> finalizers,
      boolean deleting) {
    String describe() {
      return kind + " " + (namespace == null ? name : namespace + "/" + name);
    }

    boolean has(String finalizer) {
      return deleting && finalizers.contains(finalizer);
    }
  }

  private final KubeClient client;
  private final Options options;
  private final ReconcileLoop loop;
  private final SharedInformers shared;
  private final List<SharedInformers.Handle> informers =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Informer.Registration> registrations =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<Runnable> unregister = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final ScheduledExecutorService resyncTimer;
  private final List<Discovery.ApiResource> watchedResources =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Object graphLock = new Object();
  private final Map<String, Item> items = new HashMap<>();
  private final Map<String, Set<String>> dependents = new HashMap<>();
  private volatile Discovery discovery;
  private Thread starter;
  private volatile boolean closed;

  public GarbageCollector(KubeClient client, Options options) {
    this(client, options, null);
  }

  /**
   * With the informers shared through {@code shared} (null: its own), as kube-controller-manager's
   * collector reads the same shared informers as the other controllers: one watch and one decoded
   * copy of each pod event for the whole process, not one more for the collector (decision 0043).
   */
  public GarbageCollector(KubeClient client, Options options, SharedInformers shared) {
    this.client = client;
    this.options = options;
    this.shared = shared;
    this.loop = new ReconcileLoop("gc", options.workers(), this::reconcile);
    this.resyncTimer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "gc-resync");
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Reads discovery and starts an informer per collectable resource, on a thread of its own so it
   * returns at once; discovery is retried (1 s doubling to 30 s) while the API server does not
   * answer.
   */
  @Override
  public synchronized void start() {
    if (starter != null || closed) {
      return;
    }
    starter = new Thread(this::discoverAndWatch, "gc-discovery");
    starter.setDaemon(true);
    starter.start();
  }

  private void discoverAndWatch() {
    long backoff = 1000;
    Discovery found = null;
    while (found == null) {
      if (closed) {
        return;
      }
      try {
        found = Discovery.load(client);
      } catch (RuntimeException e) {
        log.warn(
            "garbage-collector: cannot read the API server's discovery, retrying in {} ms: {}",
            backoff,
            e.toString());
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    discovery = found;
    List<String> watched = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      for (Discovery.ApiResource r : found.resources()) {
        if (!r.supports("list", "watch", "delete")
            || options.ignoredResources().contains(r.resource().toString())) {
          continue;
        }
        SharedInformers.Handle h = SharedInformers.of(shared, client, r.resource());
        EventHandler handler = handler(r);
        registrations.add(h.informer().addEventHandler(handler));
        unregister.add(() -> h.informer().removeEventHandler(handler));
        informers.add(h);
        watchedResources.add(r);
        watched.add(r.resource().toString());
      }
      informers.forEach(SharedInformers.Handle::start);
      long resync = options.resyncPeriod().toMillis();
      if (resync > 0) {
        // The collector's own resync (a shared informer has none): every object with owners, or
        // waiting for the collector, is checked again.
        resyncTimer.scheduleAtFixedRate(this::resync, resync, resync, TimeUnit.MILLISECONDS);
      }
      // The graph is complete only once every informer has listed: before, an owner missing
      // from it may just not be listed yet.
      loop.start(this::hasSynced);
    }
    log.info("garbage-collector: watching {} resources: {}", watched.size(), watched);
  }

  @Override
  public boolean hasSynced() {
    // Per registration: a shared informer started by another controller has synced before the
    // collector's handler has been given its cached objects.
    return !registrations.isEmpty()
        && registrations.stream().allMatch(Informer.Registration::hasSynced);
  }

  /** Enqueues every cached object that has owners or waits for the collector (a finalizer). */
  private void resync() {
    int enqueued = 0;
    for (int i = 0; i < informers.size() && !closed; i++) {
      Discovery.ApiResource r = watchedResources.get(i);
      for (ObjectNode obj : informers.get(i).informer().indexer().list()) {
        Item item = item(r, obj);
        if (!item.owners().isEmpty() || item.has(ORPHAN) || item.has(FOREGROUND)) {
          loop.enqueue(item.uid());
          enqueued++;
        }
      }
    }
    log.debug("garbage-collector: resync enqueued {} objects", enqueued);
  }

  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = starter;
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    resyncTimer.shutdownNow();
    loop.close();
    synchronized (this) {
      unregister.forEach(Runnable::run);
      informers.forEach(SharedInformers.Handle::close);
    }
  }

  // ------------------------------------------------------------------------------ graph

  private EventHandler handler(Discovery.ApiResource r) {
    return new EventHandler() {
      @Override
      public void onAdd(ObjectNode obj) {
        changed(null, item(r, obj));
      }

      @Override
      public void onUpdate(ObjectNode oldObj, ObjectNode newObj) {
        Item now = item(r, newObj);
        if (Objects.equals(Meta.resourceVersion(oldObj), Meta.resourceVersion(newObj))) {
          // Resync: check objects that have owners or wait for the collector again.
          if (!now.owners().isEmpty() || now.has(ORPHAN) || now.has(FOREGROUND)) {
            loop.enqueue(now.uid());
          }
          return;
        }
        changed(item(r, oldObj), now);
      }

      @Override
      public void onDelete(ObjectNode obj) {
        removed(item(r, obj));
      }
    };
  }

  static Item item(Discovery.ApiResource r, ObjectNode obj) {
    List<OwnerRef> owners = new ArrayList<>();
    for (JsonNode o : obj.path("metadata").path("ownerReferences")) {
      owners.add(
          new OwnerRef(
              o.path("apiVersion").asText(),
              o.path("kind").asText(),
              o.path("name").asText(),
              o.path("uid").asText(),
              o.path("blockOwnerDeletion").asBoolean(false)));
    }
    Set<String> fins = new LinkedHashSet<>();
    obj.path("metadata").path("finalizers").forEach(f -> fins.add(f.asText()));
    return new Item(
        r.resource(),
        r.resource().apiVersion(),
        r.kind(),
        r.resource().namespaced() ? Meta.namespace(obj) : null,
        Meta.name(obj),
        Meta.uid(obj),
        List.copyOf(owners),
        Set.copyOf(fins),
        Meta.isBeingDeleted(obj));
  }

  private void changed(Item old, Item now) {
    Set<String> wake = new LinkedHashSet<>();
    synchronized (graphLock) {
      Item before = items.put(now.uid(), now);
      if (before != null) {
        old = before;
      }
      if (old != null) {
        for (OwnerRef o : old.owners()) {
          Set<String> deps = dependents.get(o.uid());
          if (deps != null) {
            deps.remove(now.uid());
            if (deps.isEmpty()) {
              dependents.remove(o.uid());
            }
          }
        }
      }
      for (OwnerRef o : now.owners()) {
        dependents.computeIfAbsent(o.uid(), k -> new LinkedHashSet<>()).add(now.uid());
      }
      boolean ownersChanged = old == null || !old.owners().equals(now.owners());
      boolean deletionChanged =
          old == null
              || old.deleting() != now.deleting()
              || !old.finalizers().equals(now.finalizers());
      if ((ownersChanged && !now.owners().isEmpty()) || now.has(ORPHAN) || now.has(FOREGROUND)) {
        wake.add(now.uid());
      }
      if (ownersChanged || deletionChanged) {
        // An owner waiting for its dependents may be done now.
        if (old != null) {
          old.owners().forEach(o -> wakeIfWaiting(o.uid(), wake));
        }
        now.owners().forEach(o -> wakeIfWaiting(o.uid(), wake));
      }
      if (deletionChanged && now.deleting()) {
        // Dependents of an owner that started its deletion get checked (foreground, orphan).
        wake.addAll(dependents.getOrDefault(now.uid(), Set.of()));
      }
    }
    wake.forEach(loop::enqueue);
  }

  private void removed(Item gone) {
    Set<String> wake = new LinkedHashSet<>();
    synchronized (graphLock) {
      Item was = items.get(gone.uid());
      if (was == null) {
        return;
      }
      items.remove(gone.uid());
      for (OwnerRef o : was.owners()) {
        Set<String> deps = dependents.get(o.uid());
        if (deps != null) {
          deps.remove(gone.uid());
          if (deps.isEmpty()) {
            dependents.remove(o.uid());
          }
        }
        wakeIfWaiting(o.uid(), wake);
      }
      // Its dependents have lost an owner.
      wake.addAll(dependents.getOrDefault(gone.uid(), Set.of()));
    }
    wake.forEach(loop::enqueue);
  }

  private void wakeIfWaiting(String ownerUid, Set<String> wake) {
    Item owner = items.get(ownerUid);
    if (owner != null && (owner.has(FOREGROUND) || owner.has(ORPHAN))) {
      wake.add(ownerUid);
    }
  }

  private List<Item> dependentsOf(String uid) {
    synchronized (graphLock) {
      List<Item> out = new ArrayList<>();
      for (String d : dependents.getOrDefault(uid, Set.of())) {
        Item i = items.get(d);
        if (i != null) {
          out.add(i);
        }
      }
      return out;
    }
  }

  /** The graph's view of an object (for tests). */
  Optional<Item> graphItem(String uid) {
    synchronized (graphLock) {
      return Optional.ofNullable(items.get(uid));
    }
  }

  // ------------------------------------------------------------------------------ reconcile

  void reconcile(String uid) throws Exception {
    Item item;
    synchronized (graphLock) {
      item = items.get(uid);
    }
    if (item == null) {
      return;
    }
    if (item.has(ORPHAN)) {
      orphanDependents(item);
    } else if (item.has(FOREGROUND)) {
      deleteDependentsFirst(item);
    } else if (!item.owners().isEmpty() && !item.deleting()) {
      collectIfOwnersGone(item);
    }
  }

  private enum OwnerState {
    SOLID,
    WAITING,
    GONE,
    UNKNOWN_KIND,
    INVALID
  }

  private OwnerState ownerState(Item dependent, OwnerRef ref) {
    Item owner;
    synchronized (graphLock) {
      owner = items.get(ref.uid());
    }
    if (owner != null) {
      return owner.has(FOREGROUND) ? OwnerState.WAITING : OwnerState.SOLID;
    }
    // Not in the graph: ask the API server (the graph may lag behind, or the kind is not watched).
    Optional<Discovery.ApiResource> r = discovery.forKind(ref.apiVersion(), ref.kind());
    if (r.isEmpty()) {
      return OwnerState.UNKNOWN_KIND;
    }
    Resource res = r.get().resource();
    if (res.namespaced() && dependent.namespace() == null) {
      // A cluster-scoped object cannot be owned by a namespaced one: Kubernetes treats the
      // reference as unresolvable and never collects the object.
      return OwnerState.INVALID;
    }
    try {
      ObjectNode o = client.get(res, res.namespaced() ? dependent.namespace() : null, ref.name());
      if (!ref.uid().equals(Meta.uid(o))) {
        return OwnerState.GONE;
      }
      boolean waiting =
          Meta.isBeingDeleted(o)
              && o.path("metadata")
                  .path("finalizers")
                  .toString()
                  .contains("\"" + FOREGROUND + "\"");
      return waiting ? OwnerState.WAITING : OwnerState.SOLID;
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return OwnerState.GONE;
      }
      throw e;
    }
  }

  private void collectIfOwnersGone(Item item) {
    List<OwnerRef> solid = new ArrayList<>();
    List<OwnerRef> waiting = new ArrayList<>();
    List<OwnerRef> gone = new ArrayList<>();
    for (OwnerRef ref : item.owners()) {
      switch (ownerState(item, ref)) {
        case SOLID -> solid.add(ref);
        case WAITING -> waiting.add(ref);
        case GONE -> gone.add(ref);
        case UNKNOWN_KIND -> {
          log.warn(
              "garbage-collector {}: owner {} {} has a kind the API server does not serve; keeping"
                  + " the object",
              item.describe(),
              ref.kind(),
              ref.name());
          solid.add(ref);
        }
        case INVALID -> {
          log.warn(
              "garbage-collector {}: owner {} {} is namespaced but the object is cluster-scoped;"
                  + " the reference cannot be resolved, keeping the object",
              item.describe(),
              ref.kind(),
              ref.name());
          solid.add(ref);
        }
      }
    }
    if (!solid.isEmpty()) {
      if (gone.isEmpty() && waiting.isEmpty()) {
        return;
      }
      List<OwnerRef> drop = new ArrayList<>(gone);
      drop.addAll(waiting);
      boolean done = removeOwnerReferences(item, drop.stream().map(OwnerRef::uid).toList());
      if (done) {
        log.info(
            "garbage-collector {} uid={}: owners {} gone or being deleted, still owned by {}:"
                + " removed their ownerReferences",
            item.describe(),
            item.uid(),
            names(drop),
            names(solid));
      }
      return;
    }
    if (gone.isEmpty() && waiting.isEmpty()) {
      return;
    }
    String policy;
    String why;
    if (!waiting.isEmpty() && !dependentsOf(item.uid()).isEmpty()) {
      policy = "Foreground";
      why = "owner " + names(waiting) + " is deleting its dependents first and this has dependents";
    } else if (item.finalizers().contains(ORPHAN)) {
      policy = "Orphan";
      why = "owners " + names(gone) + names(waiting) + " gone; it asks to orphan its dependents";
    } else if (!waiting.isEmpty()) {
      policy = "Background";
      why = "owner " + names(waiting) + " is deleting its dependents first";
    } else {
      policy = "Background";
      why = "all owners gone: " + names(gone);
    }
    if (delete(item, policy)) {
      log.info(
          "garbage-collector {} uid={}: {} → deleted (propagationPolicy {})",
          item.describe(),
          item.uid(),
          why,
          policy);
    }
  }

  private void deleteDependentsFirst(Item owner) {
    List<Item> deps = dependentsOf(owner.uid());
    int blocking = 0;
    int deleted = 0;
    for (Item d : deps) {
      OwnerRef ref =
          d.owners().stream().filter(o -> o.uid().equals(owner.uid())).findFirst().orElse(null);
      if (ref == null) {
        continue;
      }
      if (ref.block()) {
        blocking++;
      }
      if (!d.deleting()) {
        // The dependent's own reconcile decides: delete it, or only drop the reference if it has
        // another live owner.
        loop.enqueue(d.uid());
        deleted++;
      }
    }
    if (blocking > 0) {
      if (deleted > 0) {
        log.info(
            "garbage-collector {} uid={}: foreground deletion, {} dependents ({} blocking):"
                + " deleting them first",
            owner.describe(),
            owner.uid(),
            deps.size(),
            blocking);
      }
      return;
    }
    if (removeFinalizer(owner, FOREGROUND)) {
      log.info(
          "garbage-collector {} uid={}: foreground deletion, no blocking dependents left ({} others"
              + " follow in the background) → removed the foregroundDeletion finalizer",
          owner.describe(),
          owner.uid(),
          deps.size());
    }
  }

  private void orphanDependents(Item owner) {
    List<Item> deps = new ArrayList<>(dependentsOf(owner.uid()));
    // Informers of different resources are not in step: a dependent created just before its owner
    // was deleted may not be in the graph yet. Once the finalizer is gone it would look orphaned
    // by a vanished owner and be collected, so read the live dependents too.
    Set<String> known = new java.util.HashSet<>();
    deps.forEach(d -> known.add(d.uid()));
    for (Discovery.ApiResource r : watchedResources) {
      if (owner.namespace() != null && !r.resource().namespaced()) {
        continue;
      }
      for (JsonNode o :
          client
              .list(
                  r.resource(),
                  r.resource().namespaced() ? owner.namespace() : null,
                  ListOptions.NONE)
              .path("items")) {
        if (o instanceof ObjectNode obj && !known.contains(Meta.uid(obj))) {
          for (JsonNode ref : obj.path("metadata").path("ownerReferences")) {
            if (ref.path("uid").asText().equals(owner.uid())) {
              deps.add(item(r, obj));
              known.add(Meta.uid(obj));
              break;
            }
          }
        }
      }
    }
    int orphaned = 0;
    for (Item d : deps) {
      if (removeOwnerReferences(d, List.of(owner.uid()))) {
        orphaned++;
      }
    }
    if (removeFinalizer(owner, ORPHAN)) {
      log.info(
          "garbage-collector {} uid={}: orphan deletion → removed the ownerReference from {}"
              + " dependents, then the orphan finalizer",
          owner.describe(),
          owner.uid(),
          orphaned);
    }
  }

  // ------------------------------------------------------------------------------ writes

  /** Deletes the object if it still has this uid; false if it was already gone. */
  private boolean delete(Item item, String policy) {
    ObjectNode opts = KubeClient.JSON.createObjectNode();
    opts.put("kind", "DeleteOptions").put("apiVersion", "v1");
    opts.put("propagationPolicy", policy);
    opts.putObject("preconditions").put("uid", item.uid());
    try {
      client.delete(item.resource(), item.namespace(), item.name(), opts);
      return true;
    } catch (ApiException e) {
      if (e.isNotFound() || e.isConflict()) {
        // Gone already, or replaced by a new object of that name (the precondition failed).
        return false;
      }
      throw e;
    }
  }

  /**
   * Removes the ownerReferences with these uids from the live object. False if the object is gone
   * or had none of them.
   */
  private boolean removeOwnerReferences(Item item, List<String> ownerUids) {
    return updateLive(
        item,
        live -> {
          ArrayNode kept = KubeClient.JSON.createArrayNode();
          boolean changed = false;
          for (JsonNode o : live.path("metadata").path("ownerReferences")) {
            if (ownerUids.contains(o.path("uid").asText())) {
              changed = true;
            } else {
              kept.add(o);
            }
          }
          if (!changed) {
            return false;
          }
          ObjectNode m = Meta.metadata(live);
          if (kept.isEmpty()) {
            m.remove("ownerReferences");
          } else {
            m.set("ownerReferences", kept);
          }
          return true;
        });
  }

  /** Removes a finalizer from the live object; false if it is gone or does not have it. */
  private boolean removeFinalizer(Item item, String finalizer) {
    return updateLive(
        item,
        live -> {
          ArrayNode kept = KubeClient.JSON.createArrayNode();
          boolean had = false;
          for (JsonNode f : live.path("metadata").path("finalizers")) {
            if (f.asText().equals(finalizer)) {
              had = true;
            } else {
              kept.add(f);
            }
          }
          if (had) {
            Meta.metadata(live).set("finalizers", kept);
          }
          return had;
        });
  }

  /**
   * Reads the item's live object, lets {@code change} edit it (false: nothing to change), and
   * writes it back conditionally, again from a fresh read when another write came first. False if
   * the object is gone, was replaced by another of that name, or needed no change.
   */
  private boolean updateLive(Item item, Predicate<ObjectNode> change) {
    for (int attempt = 0; ; attempt++) {
      ObjectNode live;
      try {
        live = client.get(item.resource(), item.namespace(), item.name());
      } catch (ApiException e) {
        if (e.isNotFound()) {
          return false;
        }
        throw e;
      }
      if (!item.uid().equals(Meta.uid(live)) || !change.test(live)) {
        return false;
      }
      try {
        client.update(item.resource(), live);
        return true;
      } catch (ApiException e) {
        if (e.isNotFound()) {
          return false;
        }
        if (!e.isConflict() || attempt >= 10) {
          throw e;
        }
      }
    }
  }

  private static String names(List<OwnerRef> refs) {
    List<String> out = new ArrayList<>();
    for (OwnerRef r : refs) {
      out.add(r.kind() + " " + r.name());
    }
    return String.join(", ", out);
  }
}

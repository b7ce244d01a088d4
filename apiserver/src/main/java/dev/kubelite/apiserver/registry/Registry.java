package dev.kubelite.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.FieldSelector;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.LabelSelector;
import dev.kubelite.apiserver.managed.ManagedFields;
import dev.kubelite.apiserver.storage.CachedObject;
import dev.kubelite.apiserver.storage.ObjectStorage;
import dev.kubelite.apiserver.storage.ObjectStorage.Outcome;
import dev.kubelite.apiserver.storage.ObjectStorage.Stored;
import dev.kubelite.apiserver.storage.ObjectStorage.Written;
import dev.kubelite.apiserver.storage.ObjectWatcher;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.apiserver.storage.WatchCaches;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes object semantics on top of {@link ObjectStorage}: object metadata (uid,
 * creationTimestamp, generation, resourceVersion), optimistic concurrency, status subresources,
 * graceful deletion and finalizers, namespaces that must exist, list paging and selectors. One
 * generic registry for every {@link ResourceType}; what differs per kind is in {@link Strategy}.
 */
public final class Registry {
  private static final Logger log = LoggerFactory.getLogger(Registry.class);

  /** How often a read-modify-write retries after losing a race (Kubernetes retries too). */
  static final int MAX_UPDATE_ATTEMPTS = 10;

  private static final String NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";
  private static final Set<String> UNDELETABLE_NAMESPACES =
      Set.of("default", "kube-system", "kube-public");

  private final ObjectStorage storage;
  private final WatchCaches caches;
  private final ResourceTable table;
  private final Clock clock;
  private volatile Random random = new SecureRandom();
  private final boolean dryRun;
  private final Registry dryRunView;
  private final ServiceAllocations services;

  public Registry(ObjectStorage storage, WatchCaches caches, ResourceTable table, Clock clock) {
    this(storage, caches, table, clock, false);
  }

  private Registry(
      ObjectStorage storage, WatchCaches caches, ResourceTable table, Clock clock, boolean dryRun) {
    this.storage = storage;
    this.caches = caches;
    this.table = table;
    this.clock = clock;
    this.dryRun = dryRun;
    this.services = new ServiceAllocations(storage);
    this.dryRunView = dryRun ? this : new Registry(storage, caches, table, clock, true);
  }

  /**
   * The same registry for {@code dryRun=All} requests: every read, check, default and validation
   * runs, the answer is what it would be, and nothing is written. A dry-run create answers without
   * a resourceVersion; an update or delete with the object's current one (as kube-apiserver).
   */
  public Registry dryRun() {
    return dryRunView;
  }

  /** Starts one watch cache per resource type (after the default namespaces exist). */
  public CompletableFuture<Void> startWatchCaches(int window) {
    return caches.start(table.all().stream().map(ResourceType::keyPrefix).toList(), window);
  }

  public WatchCaches caches() {
    return caches;
  }

  /**
   * Watches the type's objects (in {@code ns}, or all) after {@code fromRevision}: from the type's
   * watch cache when it still holds that revision, else from the store.
   */
  public WatchCaches.Served watch(ResourceType t, String ns, long fromRevision, ObjectWatcher w) {
    return caches.watch(t.keyPrefix(), t.keyPrefix(ns), fromRevision, w);
  }

  public ResourceTable table() {
    return table;
  }

  public ObjectStorage storage() {
    return storage;
  }

  /** The time of a write as objects record it (RFC 3339, seconds). */
  public String now() {
    return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  // ------------------------------------------------------------------------------ create

  /**
   * The object a write left in the store and, when the write stored it, the JSON stored for it
   * (without resourceVersion; null for a dry run or an unchanged object): {@link #json} is then the
   * object's JSON without serialising it again.
   */
  public record Saved(ObjectNode object, byte[] stored) {
    /**
     * The object's JSON as {@link Json#bytes} writes it (the stored JSON plus its resourceVersion
     * as the last metadata field, where reading the object back puts it).
     */
    public byte[] json() {
      if (stored != null && !object.path("metadata").has("selfLink")) {
        String rv = Json.text(object, "metadata", "resourceVersion");
        byte[] b = rv == null ? null : Json.withResourceVersion(stored, rv);
        if (b != null) {
          return b;
        }
      }
      return Json.bytes(object);
    }
  }

  /** POST: creates {@code obj} in namespace {@code ns} (null for cluster-scoped resources). */
  public CompletableFuture<ObjectNode> create(ResourceType t, String ns, ObjectNode obj) {
    return create(t, ns, obj, null);
  }

  /**
   * POST: creates {@code obj}; {@code tracking} (may be null: the object keeps the managedFields it
   * carries) records the create in its managedFields after defaulting.
   */
  public CompletableFuture<ObjectNode> create(
      ResourceType t, String ns, ObjectNode obj, FieldTracking tracking) {
    return createSaved(t, ns, obj, tracking).thenApply(Saved::object);
  }

  /** {@link #create(ResourceType, String, ObjectNode, FieldTracking)}, with the stored JSON. */
  public CompletableFuture<Saved> createSaved(
      ResourceType t, String ns, ObjectNode obj, FieldTracking tracking) {
    checkTypeMeta(t, obj);
    ObjectNode meta = Json.child(obj, "metadata");
    if (t.namespaced()) {
      String bodyNs = Json.text(meta, "namespace");
      if (bodyNs != null && !bodyNs.isEmpty() && !bodyNs.equals(ns)) {
        throw ApiException.badRequest(
            "the namespace of the provided object does not match the namespace sent on the"
                + " request");
      }
      meta.put("namespace", ns);
    } else {
      meta.remove("namespace");
    }
    String name = Json.text(meta, "name");
    String generateName = Json.text(meta, "generateName");
    // Kubernetes' NamespaceLifecycle admission runs before defaulting and validation.
    CompletableFuture<Void> nsCheck =
        t.namespaced()
            ? checkNamespaceAcceptsObjects(t, ns, name == null ? "" : name)
            : CompletableFuture.completedFuture(null);
    return nsCheck.thenCompose(
        ok -> {
          boolean generated =
              (name == null || name.isEmpty()) && generateName != null && !generateName.isEmpty();
          if (generated) {
            meta.put("name", generateName(generateName));
          }
          String regenerateFrom = generated ? generateName : null;
          meta.remove("resourceVersion");
          meta.remove("selfLink");
          meta.remove("deletionTimestamp");
          meta.remove("deletionGracePeriodSeconds");
          meta.put("uid", UUID.randomUUID().toString());
          meta.put("creationTimestamp", now());
          meta.put("generation", 1);
          Strategy.prepareForCreate(t, obj);
          if (tracking != null) {
            tracking.track(null, obj, now());
          }
          Strategy.validate(t, obj, null);
          if (t.kind().equals("Service") && !dryRun) {
            return services
                .allocate(obj)
                .thenCompose(
                    reserved ->
                        store(t, ns, obj, regenerateFrom, 1)
                            .whenComplete(
                                (stored, e) -> {
                                  if (e != null) {
                                    releaseLogged(services.release(reserved), obj);
                                  }
                                }));
          }
          return store(t, ns, obj, regenerateFrom, 1);
        });
  }

  /** kube-apiserver's retries of a generated name that is taken (its RetryGenerateName). */
  static final int GENERATE_NAME_ATTEMPTS = 8;

  /**
   * Stores {@code obj}; if its name was generated from {@code regenerateFrom} and is taken, tries
   * new names, as kube-apiserver does, so random collisions never reach the client.
   */
  private CompletableFuture<Saved> store(
      ResourceType t, String ns, ObjectNode obj, String regenerateFrom, int attempt) {
    return store(t, ns, obj)
        .exceptionallyCompose(
            e -> {
              ApiException a = ObjectStorage.translate(e);
              if (regenerateFrom == null
                  || a.code() != 409
                  || !"AlreadyExists".equals(a.reason())
                  || attempt >= GENERATE_NAME_ATTEMPTS) {
                return CompletableFuture.failedFuture(a);
              }
              Json.child(obj, "metadata").put("name", generateName(regenerateFrom));
              return store(t, ns, obj, regenerateFrom, attempt + 1);
            });
  }

  private CompletableFuture<Saved> store(ResourceType t, String ns, ObjectNode obj) {
    String finalName = Json.text(obj, "metadata", "name");
    if (dryRun) {
      // Still an AlreadyExists if the name is taken, as kube-apiserver's dry-run storage does.
      return storage
          .get(t.key(ns, finalName))
          .thenApply(
              existing -> {
                if (existing != null) {
                  throw ApiException.alreadyExists(t.group(), t.plural(), finalName);
                }
                return new Saved(obj, null);
              });
    }
    return storage
        .create(t.key(ns, finalName), obj)
        .thenApply(
            w -> {
              if (w.outcome() != Outcome.OK) {
                throw ApiException.alreadyExists(t.group(), t.plural(), finalName);
              }
              return new Saved(w.current().object(), w.json());
            });
  }

  /** For tests: the source of generated name suffixes (a seeded one repeats its names). */
  void useNameRandom(Random r) {
    random = r;
  }

  private String generateName(String prefix) {
    String p = prefix.length() > 58 ? prefix.substring(0, 58) : prefix;
    StringBuilder b = new StringBuilder(p);
    for (int i = 0; i < 5; i++) {
      b.append(NAME_CHARS.charAt(random.nextInt(NAME_CHARS.length())));
    }
    return b.toString();
  }

  /**
   * The namespace must exist and not be terminating. Checked in the namespaces' watch cache when it
   * holds the namespace and has seen this server's own namespace writes (as kube-apiserver's
   * NamespaceLifecycle admission checks its informer), else read from the store: a create then
   * costs one store round trip, not two.
   */
  private CompletableFuture<Void> checkNamespaceAcceptsObjects(
      ResourceType t, String ns, String name) {
    ResourceType nsType = table.byKind("", "Namespace");
    String key = nsType.key(null, ns);
    WatchCache cache = caches.cache(nsType.keyPrefix());
    if (cache != null) {
      WatchCache.Lookup cached = cache.lookup(key);
      if (cached.answered() && cached.object() != null) {
        checkNamespaceActive(t, ns, name, cached.object().object());
        return CompletableFuture.completedFuture(null);
      }
    }
    return storage
        .get(key)
        .thenApply(
            s -> {
              if (s == null) {
                throw ApiException.notFound("", "namespaces", ns);
              }
              checkNamespaceActive(t, ns, name, s.object());
              return null;
            });
  }

  /** Refuses {@code name} of type {@code t} if {@code namespace} is terminating, as Kubernetes. */
  private static void checkNamespaceActive(
      ResourceType t, String ns, String name, ObjectNode namespace) {
    if ("Terminating".equals(Json.text(namespace, "status", "phase"))
        || namespace.path("metadata").hasNonNull("deletionTimestamp")) {
      throw ApiException.forbidden(
          t.group(),
          t.plural(),
          name,
          "unable to create new content in namespace " + ns + " because it is being terminated");
    }
  }

  /** kind/apiVersion in a body must match the URL's resource; missing ones are filled in. */
  static void checkTypeMeta(ResourceType t, ObjectNode obj) {
    JsonNode kind = obj.get("kind");
    JsonNode apiVersion = obj.get("apiVersion");
    if (kind != null
        && !kind.isNull()
        && !kind.asText().isEmpty()
        && !kind.asText().equals(t.kind())) {
      throw ApiException.badRequest(
          "the kind in the data ("
              + kind.asText()
              + ") does not match the expected kind ("
              + t.kind()
              + ")");
    }
    if (apiVersion != null
        && !apiVersion.isNull()
        && !apiVersion.asText().isEmpty()
        && !apiVersion.asText().equals(t.apiVersion())) {
      throw ApiException.badRequest(
          "the API version in the data ("
              + apiVersion.asText()
              + ") does not match the expected API version ("
              + t.apiVersion()
              + ")");
    }
    if (obj.has("metadata") && !obj.get("metadata").isObject() && !obj.get("metadata").isNull()) {
      throw ApiException.badRequest("metadata must be an object");
    }
    // kind and apiVersion first, as Kubernetes writes objects (the other fields are moved, not
    // copied).
    Iterator<String> names = obj.fieldNames();
    if (names.hasNext()
        && names.next().equals("kind")
        && names.hasNext()
        && names.next().equals("apiVersion")
        && t.kind().equals(obj.get("kind").textValue())
        && t.apiVersion().equals(obj.get("apiVersion").textValue())) {
      return;
    }
    List<Map.Entry<String, JsonNode>> rest = new ArrayList<>(obj.size());
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getKey().equals("kind") && !e.getKey().equals("apiVersion")) {
        rest.add(Map.entry(e.getKey(), e.getValue()));
      }
    }
    obj.removeAll();
    obj.put("kind", t.kind());
    obj.put("apiVersion", t.apiVersion());
    for (Map.Entry<String, JsonNode> e : rest) {
      obj.set(e.getKey(), e.getValue());
    }
  }

  // ------------------------------------------------------------------------------ get

  public CompletableFuture<ObjectNode> get(ResourceType t, String ns, String name) {
    return storage
        .get(t.key(ns, name))
        .thenApply(
            s -> {
              if (s == null) {
                throw ApiException.notFound(t.group(), t.plural(), name);
              }
              return s.object();
            });
  }

  /** GET as the JSON a read answers (see {@link ObjectStorage#getJson}). */
  public CompletableFuture<byte[]> getJson(ResourceType t, String ns, String name) {
    return storage
        .getJson(t.key(ns, name))
        .thenApply(
            json -> {
              if (json == null) {
                throw ApiException.notFound(t.group(), t.plural(), name);
              }
              return json;
            });
  }

  // ------------------------------------------------------------------------------ list

  /** List parameters. {@code resourceVersion} null = most recent. */
  public record ListOptions(
      LabelSelector labels,
      FieldSelector fields,
      long limit,
      String continueToken,
      String resourceVersion,
      String resourceVersionMatch) {}

  /**
   * A list answer: items, the revision it reflects, and a continue token if cut. Served from the
   * watch cache, {@code cached} holds the items in the cache's compact form (which keeps their
   * JSON) and {@link #items} parses them on each call; else {@code cached} is null.
   */
  public record ListResult(
      List<ObjectNode> items, long revision, String continueToken, List<CachedObject> cached) {
    public ListResult(List<ObjectNode> items, long revision, String continueToken) {
      this(items, revision, continueToken, null);
    }

    /** A list served from the watch cache: its items are parsed only if asked for. */
    static ListResult cached(List<CachedObject> cached, long revision) {
      return new ListResult(null, revision, null, cached);
    }

    @Override
    public List<ObjectNode> items() {
      return items != null ? items : cached.stream().map(CachedObject::object).toList();
    }
  }

  public boolean matches(ObjectNode obj, ListOptions o) {
    return o.labels().matches(Strategy.labelsOf(obj.path("metadata").path("labels")))
        && o.fields().matches(obj);
  }

  /** {@link #matches(ObjectNode, ListOptions)} on the watch cache's compact form (no parse). */
  public boolean matches(CachedObject obj, ListOptions o) {
    return o.labels().matches(obj.labels()) && o.fields().matches(obj::field);
  }

  public CompletableFuture<ListResult> list(ResourceType t, String ns, ListOptions o) {
    String prefix = t.keyPrefix(ns);
    WatchCache cache = caches.cache(t.keyPrefix());
    if ("0".equals(o.resourceVersion())
        && (o.continueToken() == null || o.continueToken().isEmpty())
        && cache != null) {
      // resourceVersion=0: any recent state will do; Kubernetes serves it from the watch cache.
      WatchCache.Snapshot snap = cache.snapshot(prefix);
      List<CachedObject> cached = new ArrayList<>();
      for (CachedObject e : snap.entries()) {
        if (matches(e, o)) {
          cached.add(e);
        }
      }
      return CompletableFuture.completedFuture(ListResult.cached(cached, snap.revision()));
    }
    long revision = 0;
    String from = prefix;
    if (o.continueToken() != null && !o.continueToken().isEmpty()) {
      Continue c = Continue.decode(o.continueToken());
      revision = c.rv();
      from = prefix + c.start();
    } else if (o.resourceVersion() != null && !o.resourceVersion().isEmpty()) {
      long rv = parseRv(o.resourceVersion());
      if ("Exact".equals(o.resourceVersionMatch())) {
        if (rv == 0) {
          throw ApiException.badRequest("resourceVersionMatch=Exact needs a resourceVersion > 0");
        }
        revision = rv;
      } else if (o.resourceVersionMatch() != null
          && !o.resourceVersionMatch().isEmpty()
          && !"NotOlderThan".equals(o.resourceVersionMatch())) {
        throw ApiException.badRequest(
            "unsupported resourceVersionMatch \"" + o.resourceVersionMatch() + "\"");
      }
    }
    // metadata.name=x (kubectl delete --wait, rollout status) reads one key, not the whole prefix.
    String fieldName = o.fields().exact("metadata.name");
    List<ObjectNode> items = new ArrayList<>();
    long wantRv =
        o.resourceVersion() == null || o.resourceVersion().isEmpty()
            ? 0
            : parseRv(o.resourceVersion());
    long batch =
        o.limit() <= 0
            ? 0
            : Math.max(o.limit(), o.labels().isEmpty() && o.fields().isEmpty() ? 0 : 500);
    String exactKey =
        fieldName != null && (ns != null || !t.namespaced()) ? t.key(ns, fieldName) : null;
    return listLoop(t, ns, o, prefix, from, revision, batch, items, exactKey)
        .thenApply(
            r -> {
              if (wantRv > r.revision() && !"Exact".equals(o.resourceVersionMatch())) {
                throw ApiException.timeout(
                    "Too large resource version: " + wantRv + ", current: " + r.revision());
              }
              return r;
            });
  }

  private CompletableFuture<ListResult> listLoop(
      ResourceType t,
      String ns,
      ListOptions o,
      String prefix,
      String from,
      long revision,
      long batch,
      List<ObjectNode> items,
      String exactKey) {
    CompletableFuture<ObjectStorage.Page> page =
        exactKey != null
            ? storage.list(exactKey, exactKey, 0, revision)
            : storage.list(prefix, from, batch, revision);
    return page.thenCompose(
        p -> {
          long rev = revision == 0 ? p.revision() : revision;
          List<Stored> got = p.items();
          for (int i = 0; i < got.size(); i++) {
            ObjectNode obj = got.get(i).object();
            if (!matches(obj, o)) {
              continue;
            }
            items.add(obj);
            if (o.limit() > 0 && items.size() >= o.limit()) {
              boolean more = i < got.size() - 1 || p.more();
              String token = null;
              if (more) {
                String key =
                    t.key(
                        Json.text(obj, "metadata", "namespace"),
                        Json.text(obj, "metadata", "name"));
                token = new Continue(rev, key.substring(prefix.length()) + "\u0000").encode();
              }
              return CompletableFuture.completedFuture(new ListResult(items, rev, token));
            }
          }
          if (p.more() && p.lastKey() != null) {
            return listLoop(t, ns, o, prefix, p.lastKey() + "\u0000", rev, batch, items, exactKey);
          }
          return CompletableFuture.completedFuture(new ListResult(items, rev, null));
        });
  }

  static long parseRv(String rv) {
    try {
      long v = Long.parseLong(rv);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("invalid resource version: \"" + rv + "\"");
    }
  }

  /** The {@code continue} token: the list's revision and the key to resume after. */
  record Continue(long rv, String start) {
    String encode() {
      ObjectNode o = Json.object();
      o.put("v", "meta.k8s.io/v1");
      o.put("rv", rv);
      o.put("start", start);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(Json.bytes(o));
    }

    static Continue decode(String token) {
      try {
        byte[] raw =
            Base64.getUrlDecoder()
                .decode(token.replace('+', '-').replace('/', '_').replace("=", ""));
        ObjectNode o = Json.parseObject(raw, false);
        long rv = o.path("rv").asLong(-1);
        String start = Json.text(o, "start");
        if (rv <= 0 || start == null || start.contains("/..") || start.startsWith("/")) {
          throw new IllegalArgumentException("missing rv or start");
        }
        return new Continue(rv, start);
      } catch (IllegalArgumentException | ApiException e) {
        throw ApiException.badRequest("continue key is not valid: " + e.getMessage());
      }
    }
  }

  // ------------------------------------------------------------------------------ update

  /**
   * PUT: replaces the object (or its status if {@code subresource} is "status"). With a
   * resourceVersion in the body the write is conditional on it (409 if stale); without one it is
   * unconditional, as Kubernetes allows for the kinds we serve.
   */
  public CompletableFuture<ObjectNode> update(
      ResourceType t, String ns, String name, String subresource, ObjectNode obj) {
    return update(t, ns, name, subresource, obj, null);
  }

  /** PUT, with {@code tracking} recording it in managedFields (see {@link #guaranteedUpdate}). */
  public CompletableFuture<ObjectNode> update(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      ObjectNode obj,
      FieldTracking tracking) {
    return updateSaved(t, ns, name, subresource, obj, tracking).thenApply(Saved::object);
  }

  /** {@link #update(ResourceType, String, String, String, ObjectNode, FieldTracking)}, saved. */
  public CompletableFuture<Saved> updateSaved(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      ObjectNode obj,
      FieldTracking tracking) {
    checkTypeMeta(t, obj);
    ObjectNode meta = Json.child(obj, "metadata");
    String bodyName = Json.text(meta, "name");
    if (bodyName == null || bodyName.isEmpty()) {
      meta.put("name", name);
    } else if (!bodyName.equals(name)) {
      throw ApiException.badRequest(
          "the name of the object ("
              + bodyName
              + ") does not match the name on the URL ("
              + name
              + ")");
    }
    if (t.namespaced()) {
      String bodyNs = Json.text(meta, "namespace");
      if (bodyNs != null && !bodyNs.isEmpty() && !bodyNs.equals(ns)) {
        throw ApiException.badRequest(
            "the namespace of the provided object does not match the namespace sent on the"
                + " request");
      }
    }
    String rv = Json.text(meta, "resourceVersion");
    long expected = rv == null || rv.isEmpty() ? -1 : parseRv(rv);
    return attempt(
        t,
        ns,
        name,
        subresource,
        current -> {
          if (expected >= 0 && expected != current.modRevision()) {
            throw ApiException.conflict(t.group(), t.plural(), name, ApiException.MODIFIED);
          }
          // Not copied: prepareForUpdate copies what it keeps, so a retry sees the body as sent.
          return obj;
        },
        expected >= 0,
        tracking,
        1,
        expected);
  }

  /**
   * Read-modify-write with retries on a lost race: {@code tryUpdate} gets the current object and
   * returns the wanted one (PATCH, unconditional PUT, scale, binding). With {@code failOnConflict},
   * a race is a 409 instead of a retry (a PUT with a resourceVersion).
   */
  public CompletableFuture<ObjectNode> guaranteedUpdate(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      Function<Stored, ObjectNode> tryUpdate,
      boolean failOnConflict) {
    return guaranteedUpdate(t, ns, name, subresource, tryUpdate, failOnConflict, null);
  }

  /**
   * {@link #guaranteedUpdate(ResourceType, String, String, String, Function, boolean)} where {@code
   * tracking} (null: none) records the write in managedFields once the object to write is known
   * (after the subresource rules and defaulting).
   */
  public CompletableFuture<ObjectNode> guaranteedUpdate(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      Function<Stored, ObjectNode> tryUpdate,
      boolean failOnConflict,
      FieldTracking tracking) {
    return guaranteedUpdateSaved(t, ns, name, subresource, tryUpdate, failOnConflict, tracking)
        .thenApply(Saved::object);
  }

  /** {@link #guaranteedUpdate}, with the JSON the write stored. */
  public CompletableFuture<Saved> guaranteedUpdateSaved(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      Function<Stored, ObjectNode> tryUpdate,
      boolean failOnConflict,
      FieldTracking tracking) {
    return attempt(t, ns, name, subresource, tryUpdate, failOnConflict, tracking, 1, -1);
  }

  private CompletableFuture<Saved> attempt(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      Function<Stored, ObjectNode> tryUpdate,
      boolean failOnConflict,
      FieldTracking tracking,
      int attempt,
      long expected) {
    String key = t.key(ns, name);
    Stored cached = attempt == 1 && !dryRun ? cachedCurrent(t, key, expected) : null;
    if (cached != null) {
      // As kube-apiserver's GuaranteedUpdate with the watch cache's object as a hint: the first
      // try starts from the cached object; the write is conditional on its modRevision, and
      // anything that may come from the cache being behind (a conflict, an error, a no-op whose
      // stored value may be stale) is tried again from the store, as if the hint were not there.
      CompletableFuture<Saved> fromCache;
      try {
        fromCache =
            tryWith(t, ns, name, subresource, tryUpdate, failOnConflict, tracking, 1, cached, true);
      } catch (RuntimeException e) {
        // Refused before writing (a conflict with the cached resourceVersion, validation against
        // the cached object, ...): the store's object decides.
        fromCache = CompletableFuture.failedFuture(new CachedStateRetry());
      }
      return fromCache
          .handle(
              (saved, err) -> {
                if (err == null) {
                  return CompletableFuture.completedFuture(saved);
                }
                if (!(ObjectStorage.unwrap(err) instanceof CachedStateRetry)) {
                  return CompletableFuture.<Saved>failedFuture(err);
                }
                return fromStore(
                    t, ns, name, subresource, tryUpdate, failOnConflict, tracking, key, 1);
              })
          .thenCompose(f -> f);
    }
    return fromStore(t, ns, name, subresource, tryUpdate, failOnConflict, tracking, key, attempt);
  }

  private CompletableFuture<Saved> fromStore(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      Function<Stored, ObjectNode> tryUpdate,
      boolean failOnConflict,
      FieldTracking tracking,
      String key,
      int attempt) {
    return storage
        .get(key)
        .thenCompose(
            current -> {
              if (current == null) {
                throw ApiException.notFound(t.group(), t.plural(), name);
              }
              return tryWith(
                  t,
                  ns,
                  name,
                  subresource,
                  tryUpdate,
                  failOnConflict,
                  tracking,
                  attempt,
                  current,
                  false);
            });
  }

  /** Thrown (and caught) when a try from the watch cache's object must be made from the store. */
  private static final class CachedStateRetry extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CachedStateRetry() {
      super("retry from the store", null, false, false);
    }
  }

  /**
   * The object under {@code key} from the type's watch cache, as a copy of its own, when the cache
   * answers (running, and it has seen this server's own writes) and holds the object — or, for a
   * PUT with a resourceVersion ({@code expected} ≥ 0), when the cache holds exactly that version;
   * else null.
   */
  private Stored cachedCurrent(ResourceType t, String key, long expected) {
    WatchCache cache = caches.cache(t.keyPrefix());
    if (cache == null) {
      return null;
    }
    CachedObject object;
    if (expected >= 0) {
      // A PUT with the resourceVersion its client read: the cached object is used if it is that
      // version, even while the cache has not yet seen this server's latest writes to other keys
      // (with many writers it rarely has); any other version goes to the store directly.
      object = cache.peek(key);
    } else {
      WatchCache.Lookup l = cache.lookup(key);
      object = l.answered() ? l.object() : null;
    }
    if (object == null) {
      return null;
    }
    long modRevision = object.modRevision();
    if (expected >= 0 && modRevision != expected) {
      return null;
    }
    // A tree of its own, parsed from the cached JSON (the cache keeps no trees: decision 0104).
    return new Stored(key, object.object(), modRevision, false);
  }

  private CompletableFuture<Saved> tryWith(
      ResourceType t,
      String ns,
      String name,
      String subresource,
      Function<Stored, ObjectNode> tryUpdate,
      boolean failOnConflict,
      FieldTracking tracking,
      int attempt,
      Stored current,
      boolean cached) {
    ObjectNode wanted = tryUpdate.apply(current);
    checkTypeMeta(t, wanted);
    ObjectNode merged = prepareForUpdate(t, subresource, current.object(), wanted);
    if (t.kind().equals("Service") && subresource == null) {
      ServiceAllocations.keepAllocated(current.object(), merged);
    }
    if (tracking != null) {
      tracking.track(current.object(), merged, now());
    }
    // A binding sets spec.nodeName, which ordinary pod updates may not change.
    Strategy.validate(t, merged, "binding".equals(subresource) ? null : current.object());
    // As kube-apiserver: an unchanged object is not written again, unless its stored
    // value is stale (an older encryption key or provider): then the write re-encrypts
    // it, which is how `kubectl get -o json | kubectl replace -f -` migrates keys.
    if (sameObject(merged, current.object()) && !current.stale()) {
      if (cached) {
        // Unchanged against the cache: the store decides (its value may be stale).
        throw new CachedStateRetry();
      }
      return CompletableFuture.completedFuture(new Saved(current.object(), null));
    }
    CompletableFuture<Written> write;
    // As Kubernetes' ShouldDeleteDuringUpdate: the last finalizer gone deletes the
    // object, unless a grace period is still running (a pod waiting for its kubelet).
    boolean finalize =
        pendingDeletion(current.object())
            && !blocksDeletion(t, merged)
            && current.object().path("metadata").path("deletionGracePeriodSeconds").asLong(0) == 0;
    if (dryRun) {
      Json.child(merged, "metadata").put("resourceVersion", Long.toString(current.modRevision()));
      return CompletableFuture.completedFuture(new Saved(merged, null));
    }
    if (finalize) {
      write = storage.delete(current.key(), current.modRevision());
    } else {
      write = storage.update(current.key(), merged, current.modRevision());
    }
    return write.thenCompose(
        w -> {
          switch (w.outcome()) {
            case OK:
              if (finalize) {
                deleted(t, w.current().object());
                return CompletableFuture.completedFuture(new Saved(w.current().object(), null));
              }
              return CompletableFuture.completedFuture(new Saved(w.current().object(), w.json()));
            case NOT_FOUND:
              throw ApiException.notFound(t.group(), t.plural(), name);
            default:
              if (cached) {
                throw new CachedStateRetry(); // the cache was behind the store
              }
              if (failOnConflict || attempt >= MAX_UPDATE_ATTEMPTS) {
                throw ApiException.conflict(t.group(), t.plural(), name, ApiException.MODIFIED);
              }
              return attempt(t, ns, name, subresource, tryUpdate, false, tracking, attempt + 1, -1);
          }
        });
  }

  private static boolean sameObject(ObjectNode a, ObjectNode b) {
    if (a.get("metadata") instanceof ObjectNode ma && b.get("metadata") instanceof ObjectNode mb) {
      // Compared in place: the same fields, metadata's without its resourceVersion.
      if (a.size() != b.size()
          || ma.size() - (ma.has("resourceVersion") ? 1 : 0)
              != mb.size() - (mb.has("resourceVersion") ? 1 : 0)) {
        return false;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getKey().equals("metadata") && !e.getValue().equals(b.get(e.getKey()))) {
          return false;
        }
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = ma.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getKey().equals("resourceVersion") && !e.getValue().equals(mb.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    ObjectNode x = a.deepCopy();
    ObjectNode y = b.deepCopy();
    Json.child(x, "metadata").remove("resourceVersion");
    Json.child(y, "metadata").remove("resourceVersion");
    return x.equals(y);
  }

  /**
   * What an update may change: server-managed metadata comes from the stored object; the main
   * resource keeps the stored status, the status subresource keeps everything but status; the
   * generation goes up when anything outside metadata and status changed.
   */
  ObjectNode prepareForUpdate(
      ResourceType t, String subresource, ObjectNode old, ObjectNode wanted) {
    ObjectNode merged;
    if ("binding".equals(subresource)) {
      merged = wanted.deepCopy();
    } else if ("status".equals(subresource)) {
      merged = old.deepCopy();
      if (wanted.has("status")) {
        merged.set("status", wanted.get("status").deepCopy());
      } else {
        merged.remove("status");
      }
      // Annotations may change through status writes; labels and spec may not.
      JsonNode ann = wanted.path("metadata").get("annotations");
      if (ann != null) {
        Json.child(merged, "metadata").set("annotations", ann.deepCopy());
      }
      // managedFields as the write sent them; field tracking decides what is kept.
      JsonNode managed = wanted.path("metadata").get("managedFields");
      if (managed != null) {
        Json.child(merged, "metadata").set("managedFields", managed.deepCopy());
      } else {
        Json.child(merged, "metadata").remove("managedFields");
      }
    } else {
      merged = wanted.deepCopy();
      Strategy.defaultOnUpdate(t, merged);
      if (t.hasStatus()) {
        if (old.has("status")) {
          merged.set("status", old.get("status").deepCopy());
        } else {
          merged.remove("status");
        }
      }
      // A namespace's spec.finalizers change only through namespaces/<name>/finalize.
      if (t.kind().equals("Namespace") && !"finalize".equals(subresource)) {
        JsonNode fin = old.path("spec").get("finalizers");
        if (fin != null) {
          Json.child(merged, "spec").set("finalizers", fin.deepCopy());
        } else if (merged.path("spec").isObject()) {
          ((ObjectNode) merged.get("spec")).remove("finalizers");
        }
      }
    }
    ObjectNode m = Json.child(merged, "metadata");
    JsonNode om = old.path("metadata");
    for (String f :
        List.of(
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds")) {
      if (om.has(f)) {
        m.set(f, om.get(f).deepCopy());
      } else {
        m.remove(f);
      }
    }
    m.remove("selfLink");
    if (specChanged(old, merged)) {
      m.put("generation", om.path("generation").asLong(0) + 1);
    }
    return merged;
  }

  private static boolean specChanged(ObjectNode old, ObjectNode now) {
    Set<String> ignored = Set.of("metadata", "status", "kind", "apiVersion");
    Set<String> names = new java.util.TreeSet<>();
    old.fieldNames().forEachRemaining(names::add);
    now.fieldNames().forEachRemaining(names::add);
    for (String f : names) {
      if (!ignored.contains(f) && !java.util.Objects.equals(old.get(f), now.get(f))) {
        return true;
      }
    }
    return false;
  }

  // ------------------------------------------------------------------------------ delete

  /** DELETE parameters (from the DeleteOptions body and the query). */
  /**
   * @param propagationPolicy {@code Orphan}, {@code Background}, {@code Foreground} or null (the
   *     object's own GC finalizer decides, else background)
   */
  public record DeleteOptions(
      Long gracePeriodSeconds,
      String preconditionUid,
      String preconditionResourceVersion,
      String propagationPolicy) {
    public static final DeleteOptions DEFAULT = new DeleteOptions(null, null, null, null);
  }

  /** The finalizer that makes the garbage collector orphan an owner's dependents. */
  public static final String ORPHAN_FINALIZER = "orphan";

  /** The finalizer that makes the garbage collector delete an owner's dependents first. */
  public static final String FOREGROUND_FINALIZER = "foregroundDeletion";

  /** The object as it is after the delete, and whether it is gone (else: deletion pending). */
  public record Deleted(ObjectNode object, boolean gone) {}

  public CompletableFuture<Deleted> delete(
      ResourceType t, String ns, String name, DeleteOptions o) {
    return deleteAttempt(t, ns, name, o, 1);
  }

  private CompletableFuture<Deleted> deleteAttempt(
      ResourceType t, String ns, String name, DeleteOptions o, int attempt) {
    String key = t.key(ns, name);
    if (t.kind().equals("Namespace") && UNDELETABLE_NAMESPACES.contains(name)) {
      return CompletableFuture.failedFuture(
          ApiException.forbidden("", "namespaces", name, "this namespace may not be deleted"));
    }
    return storage
        .get(key)
        .thenCompose(
            current -> {
              if (current == null) {
                throw ApiException.notFound(t.group(), t.plural(), name);
              }
              ObjectNode obj = current.object();
              checkPreconditions(t, name, obj, o);
              ObjectNode pending = pendingDelete(t, obj, o);
              if (dryRun) {
                ObjectNode answer = pending == null ? obj : pending;
                Json.child(answer, "metadata")
                    .put("resourceVersion", Long.toString(current.modRevision()));
                return CompletableFuture.completedFuture(new Deleted(answer, pending == null));
              }
              CompletableFuture<Written> write =
                  pending == null
                      ? storage.delete(key, current.modRevision())
                      : pending == obj
                          ? CompletableFuture.completedFuture(new Written(Outcome.OK, current))
                          : storage.update(key, pending, current.modRevision());
              return write.thenCompose(
                  w -> {
                    switch (w.outcome()) {
                      case OK:
                        if (pending == null) {
                          deleted(t, w.current().object());
                        }
                        return CompletableFuture.completedFuture(
                            new Deleted(w.current().object(), pending == null));
                      case NOT_FOUND:
                        throw ApiException.notFound(t.group(), t.plural(), name);
                      default:
                        if (attempt >= MAX_UPDATE_ATTEMPTS) {
                          throw ApiException.conflict(
                              t.group(), t.plural(), name, ApiException.MODIFIED);
                        }
                        return deleteAttempt(t, ns, name, o, attempt + 1);
                    }
                  });
            });
  }

  private static void checkPreconditions(
      ResourceType t, String name, ObjectNode obj, DeleteOptions o) {
    String uid = Json.text(obj, "metadata", "uid");
    String rv = Json.text(obj, "metadata", "resourceVersion");
    if (o.preconditionUid() != null && !o.preconditionUid().equals(uid)) {
      throw ApiException.conflict(
          t.group(),
          t.plural(),
          name,
          "Precondition failed: UID in precondition: "
              + o.preconditionUid()
              + ", UID in object meta: "
              + uid);
    }
    if (o.preconditionResourceVersion() != null && !o.preconditionResourceVersion().equals(rv)) {
      throw ApiException.conflict(
          t.group(),
          t.plural(),
          name,
          "Precondition failed: ResourceVersion in precondition: "
              + o.preconditionResourceVersion()
              + ", ResourceVersion in object meta: "
              + rv);
    }
  }

  static boolean pendingDeletion(ObjectNode obj) {
    return obj.path("metadata").hasNonNull("deletionTimestamp");
  }

  /** Finalizers (and a namespace's spec.finalizers) keep an object that is being deleted. */
  static boolean blocksDeletion(ResourceType t, ObjectNode obj) {
    JsonNode fin = obj.path("metadata").path("finalizers");
    if (fin.isArray() && !fin.isEmpty()) {
      return true;
    }
    if (t.kind().equals("Namespace")) {
      JsonNode sf = obj.path("spec").path("finalizers");
      return sf.isArray() && !sf.isEmpty();
    }
    return false;
  }

  /**
   * The object to store instead of deleting it (deletion pending), {@code obj} itself if it is
   * already pending and stays so, or null to delete it now. Pods bound to a node get a grace period
   * (the kubelet deletes them); finalizers and namespace finalizers block deletion.
   */
  private ObjectNode pendingDelete(ResourceType t, ObjectNode current, DeleteOptions o) {
    ObjectNode obj = withGcFinalizers(current, o.propagationPolicy());
    boolean finalizers = blocksDeletion(t, obj);
    long grace = 0;
    if (t.kind().equals("Pod")
        && obj.path("spec").hasNonNull("nodeName")
        && !"Succeeded".equals(Json.text(obj, "status", "phase"))
        && !"Failed".equals(Json.text(obj, "status", "phase"))) {
      grace =
          o.gracePeriodSeconds() != null
              ? o.gracePeriodSeconds()
              : obj.path("spec").path("terminationGracePeriodSeconds").asLong(30);
    }
    if (!finalizers && grace <= 0) {
      return null;
    }
    if (pendingDeletion(obj)) {
      long was = obj.path("metadata").path("deletionGracePeriodSeconds").asLong(0);
      if (!finalizers && grace == 0) {
        return null;
      }
      if (grace >= was) {
        return obj;
      }
    }
    ObjectNode pending = obj.deepCopy();
    ObjectNode m = Json.child(pending, "metadata");
    m.put(
        "deletionTimestamp",
        Instant.now(clock).plusSeconds(grace).truncatedTo(ChronoUnit.SECONDS).toString());
    m.put("deletionGracePeriodSeconds", grace);
    if (t.kind().equals("Namespace")) {
      Json.child(pending, "status").put("phase", "Terminating");
    }
    return pending;
  }

  /**
   * {@code obj} with the garbage collector's finalizers as a delete with {@code policy} asks for
   * them (Kubernetes' deletionFinalizersForGarbageCollection): {@code Orphan} adds {@code orphan},
   * {@code Foreground} adds {@code foregroundDeletion}, {@code Background} removes both; no policy
   * keeps what the object has. {@code obj} itself when nothing changes, else a copy.
   */
  static ObjectNode withGcFinalizers(ObjectNode obj, String policy) {
    List<String> now = new ArrayList<>();
    obj.path("metadata").path("finalizers").forEach(f -> now.add(f.asText()));
    boolean orphan;
    boolean foreground;
    if (policy == null) {
      orphan = now.contains(ORPHAN_FINALIZER);
      foreground = !orphan && now.contains(FOREGROUND_FINALIZER);
    } else {
      orphan = policy.equals("Orphan");
      foreground = policy.equals("Foreground");
    }
    List<String> wanted = new ArrayList<>();
    for (String f : now) {
      if (!f.equals(ORPHAN_FINALIZER) && !f.equals(FOREGROUND_FINALIZER)) {
        wanted.add(f);
      }
    }
    if (orphan) {
      wanted.add(ORPHAN_FINALIZER);
    }
    if (foreground) {
      wanted.add(FOREGROUND_FINALIZER);
    }
    if (Set.copyOf(wanted).equals(Set.copyOf(now))) {
      return obj;
    }
    ObjectNode copy = obj.deepCopy();
    ObjectNode m = Json.child(copy, "metadata");
    if (wanted.isEmpty()) {
      m.remove("finalizers");
    } else {
      ArrayNode a = m.putArray("finalizers");
      wanted.forEach(a::add);
    }
    return copy;
  }

  // ------------------------------------------------------------------------------ helpers

  /** An object is gone from the store: frees what it held (a Service's IP and node ports). */
  private void deleted(ResourceType t, ObjectNode obj) {
    if (t.kind().equals("Service")) {
      releaseLogged(services.release(obj), obj);
    }
  }

  private static void releaseLogged(CompletableFuture<Void> release, ObjectNode svc) {
    release.whenComplete(
        (v, e) -> {
          if (e != null) {
            log.error(
                "cannot release the cluster IP / node ports of service {}/{}; they stay allocated:"
                    + " {}",
                Json.text(svc, "metadata", "namespace"),
                Json.text(svc, "metadata", "name"),
                e.toString());
          }
        });
  }

  /**
   * Creates the {@code default/kubernetes} Service, as kube-apiserver's bootstrap controller does:
   * the first address of the service range, port 443 to the API server's {@code port}.
   */
  public CompletableFuture<Void> ensureApiService(int port) {
    ResourceType svcType = table.byKind("", "Service");
    return get(svcType, "default", "kubernetes")
        .handle((existing, e) -> e == null)
        .thenCompose(
            exists -> {
              if (exists) {
                return CompletableFuture.completedFuture(null);
              }
              ObjectNode svc = Json.object();
              svc.put("apiVersion", "v1").put("kind", "Service");
              ObjectNode meta = svc.putObject("metadata").put("name", "kubernetes");
              meta.putObject("labels").put("component", "apiserver").put("provider", "kubernetes");
              ObjectNode spec = svc.putObject("spec");
              spec.put("type", "ClusterIP").put("clusterIP", ServiceAllocations.API_SERVICE_IP);
              spec.putArray("ports")
                  .addObject()
                  .put("name", "https")
                  .put("port", 443)
                  .put("protocol", "TCP")
                  .put("targetPort", port);
              return create(svcType, "default", svc, internal(svcType))
                  .<Void>thenApply(created -> null)
                  .exceptionally(
                      err -> {
                        ApiException a = ObjectStorage.translate(err);
                        if (a.code() == 409 || a.code() == 422) {
                          // Another API server created it (or holds the address) meanwhile.
                          return null;
                        }
                        throw a;
                      });
            });
  }

  /** The API server's own writes are recorded for the manager {@code kube-apiserver}. */
  private static FieldTracking internal(ResourceType t) {
    return (old, obj, time) -> ManagedFields.update(t, old, obj, "kube-apiserver", null, time);
  }

  /** Creates the namespaces every cluster has, if missing. */
  public CompletableFuture<Void> ensureDefaultNamespaces() {
    ResourceType nsType = table.byKind("", "Namespace");
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (String ns : List.of("default", "kube-system", "kube-public", "kube-node-lease")) {
      ObjectNode obj = Json.object();
      obj.putObject("metadata").put("name", ns);
      all.add(
          create(nsType, null, obj, internal(nsType))
              .exceptionally(
                  e -> {
                    ApiException a = ObjectStorage.translate(e);
                    if (a.code() == 409) {
                      return null;
                    }
                    throw a;
                  }));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /**
   * A DELETE's answer when the object is gone: Status Success with details (Kubernetes' default).
   */
  public static ObjectNode deletedStatus(ResourceType t, ObjectNode obj) {
    ObjectNode s = Json.object();
    s.put("kind", "Status");
    s.put("apiVersion", "v1");
    s.putObject("metadata");
    s.put("status", "Success");
    ObjectNode d = s.putObject("details");
    d.put("name", Json.text(obj, "metadata", "name"));
    if (!t.group().isEmpty()) {
      d.put("group", t.group());
    }
    d.put("kind", t.plural());
    d.put("uid", Json.text(obj, "metadata", "uid"));
    return s;
  }
}

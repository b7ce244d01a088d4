package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.encryption.KeyTransformers;
import dev.kubelite.apiserver.encryption.ValueTransformException;
import dev.kubelite.apiserver.encryption.ValueTransformer;
import dev.kubelite.store.client.GetResult;
import dev.kubelite.store.client.Kv;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.KvStoreException;
import dev.kubelite.store.client.RangeQuery;
import dev.kubelite.store.client.RangeResult;
import dev.kubelite.store.client.Watch;
import dev.kubelite.store.client.WatchEvent;
import dev.kubelite.store.client.WatchListener;
import dev.kubelite.store.client.WatchOptions;
import dev.kubelite.store.client.WriteResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Kubernetes objects in the store: one key per object, the value its JSON without {@code
 * metadata.resourceVersion} (which is the key's mod revision, added back on every read, as the real
 * API server does). The only code that talks to {@link KvStore}. Store failures become {@link
 * ApiException}s: compacted revision = 410 Expired, too large = 413, unreachable = 503, unknown
 * outcome = 504.
 *
 * <p>Values of the resources an encryption configuration covers are encrypted here, right after
 * their JSON is written and before it is parsed (see {@link KeyTransformers}; the key is the
 * additional authenticated data), on the same thread as that JSON work: it costs microseconds per
 * object. A value no provider can read fails the request with 409 (see {@link #unreadable}).
 */
public final class ObjectStorage {
  private final KvStore store;
  private final KeyTransformers transformers;

  /**
   * Per tracked key prefix, the highest revision of a successful write this server made under it
   * (see {@link #trackWrites}).
   */
  private final Map<String, AtomicLong> ownWrites = new ConcurrentHashMap<>();

  public ObjectStorage(KvStore store) {
    this(store, KeyTransformers.none());
  }

  public ObjectStorage(KvStore store, KeyTransformers transformers) {
    this.store = store;
    this.transformers = transformers;
  }

  KvStore store() {
    return store;
  }

  public KeyTransformers transformers() {
    return transformers;
  }

  /**
   * From now on, records the revision of every successful write (create, update, delete) this
   * server makes under {@code prefix}; the answer reads the highest. A watch cache whose revision
   * has reached it has seen all of this server's own writes (read-your-writes for cached reads).
   */
  public LongSupplier trackWrites(String prefix) {
    AtomicLong last = ownWrites.computeIfAbsent(prefix, p -> new AtomicLong());
    return last::get;
  }

  private void wrote(String key, long revision) {
    for (Map.Entry<String, AtomicLong> e : ownWrites.entrySet()) {
      if (key.startsWith(e.getKey())) {
        e.getValue().accumulateAndGet(revision, Math::max);
      }
    }
  }

  /**
   * An object as read from the store (its key, the object with resourceVersion set); {@code stale}
   * if its stored value is not in the current write format (an older key, or plaintext where
   * encryption is now configured): an update rewrites it even if the object is unchanged.
   */
  public record Stored(String key, ObjectNode object, long modRevision, boolean stale) {
    public Stored(String key, ObjectNode object, long modRevision) {
      this(key, object, modRevision, false);
    }
  }

  /** A page of objects and the revision the page was read at. */
  public record Page(List<Stored> items, boolean more, String lastKey, long revision) {}

  /** Outcome of a conditional write. */
  public enum Outcome {
    OK,
    EXISTS,
    CONFLICT,
    NOT_FOUND
  }

  /**
   * A write's outcome and the object now stored under the key (null if none); {@code json}, for a
   * successful create or update, the JSON stored for it (without resourceVersion, as {@link
   * Json#storedBytes} wrote it; see {@link Json#withResourceVersion}), else null.
   */
  public record Written(Outcome outcome, Stored current, byte[] json) {
    public Written(Outcome outcome, Stored current) {
      this(outcome, current, null);
    }
  }

  public static byte[] key(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  public CompletableFuture<Stored> get(String key) {
    return wrap(store.get(key(key))).thenApply(GetResult::kv).thenApply(this::decode);
  }

  /**
   * The JSON of the object under {@code key} as a read answers it (its resourceVersion added),
   * taken from the stored bytes without parsing them when they are in the format {@link
   * Json#storedBytes} writes (else parsed and written again, failing as {@link #decode} does); null
   * if no object.
   */
  public CompletableFuture<byte[]> getJson(String key) {
    return wrap(store.get(key(key)))
        .thenApply(GetResult::kv)
        .thenApply(
            kv -> {
              if (kv == null) {
                return null;
              }
              byte[] plain = open(key, kv.value()).plain();
              byte[] json = Json.withResourceVersion(plain, Long.toString(kv.modRevision()));
              return json != null ? json : Json.bytes(decode(kv).object());
            });
  }

  /**
   * Creates {@code obj} under {@code key} if no object is there. {@code obj} must be the caller's
   * own (not shared): it is stored as is, and on success it becomes the returned object, with its
   * resourceVersion set — no copies.
   */
  public CompletableFuture<Written> create(String key, ObjectNode obj) {
    if (obj.get("metadata") instanceof ObjectNode m) {
      m.remove("resourceVersion");
      m.remove("selfLink");
    }
    byte[] json = Json.storedBytes(obj);
    return wrap(store.create(key(key), seal(key, json)))
        .thenApply(
            r -> {
              if (r.status() == WriteResult.Status.OK) {
                wrote(key, r.revision());
                Json.child(obj, "metadata").put("resourceVersion", Long.toString(r.revision()));
                return new Written(Outcome.OK, new Stored(key, obj, r.revision()), json);
              }
              return written(key, r, obj, Outcome.EXISTS, null);
            });
  }

  /**
   * Replaces the object under {@code key} if its mod revision is {@code expectedModRevision}
   * ({@link KvStore#ANY_REVISION}: whatever it is). {@code obj} must be the caller's own (not
   * shared): on success it becomes the returned object, with its resourceVersion set — no copies.
   */
  public CompletableFuture<Written> update(String key, ObjectNode obj, long expectedModRevision) {
    byte[] json = Json.storedBytes(obj);
    return wrap(store.update(key(key), seal(key, json), expectedModRevision))
        .thenApply(r -> written(key, r, obj, Outcome.CONFLICT, json));
  }

  /** Deletes if the mod revision matches ({@link KvStore#ANY_REVISION}: always). */
  public CompletableFuture<Written> delete(String key, long expectedModRevision) {
    return wrap(store.delete(key(key), expectedModRevision))
        .thenApply(
            r ->
                switch (r.status()) {
                  case OK -> {
                    wrote(key, r.revision());
                    Stored deleted = decode(r.kv());
                    // The deleted object carries the deletion's revision, as in watch events.
                    Json.child(deleted.object(), "metadata")
                        .put("resourceVersion", "" + r.revision());
                    yield new Written(Outcome.OK, new Stored(key, deleted.object(), r.revision()));
                  }
                  case CONFLICT -> new Written(Outcome.CONFLICT, decode(r.kv()));
                  case NOT_FOUND -> new Written(Outcome.NOT_FOUND, null);
                  case ALREADY_EXISTS ->
                      throw ApiException.internal("store answered ALREADY_EXISTS to a delete");
                });
  }

  /**
   * Up to {@code limit} objects (0 = all) with keys in {@code [fromKey, prefixEnd(prefix))}, at
   * {@code revision} (0 = now).
   */
  public CompletableFuture<Page> list(String prefix, String fromKey, long limit, long revision) {
    byte[] p = key(prefix);
    RangeQuery q = new RangeQuery(key(fromKey), RangeQuery.prefixEnd(p), limit, revision, null);
    return wrap(store.range(q)).thenApply(this::page);
  }

  /** Every object under a prefix in the watch cache's compact form, and the revision read at. */
  public record CachedPage(List<String> keys, List<CachedObject> objects, long revision) {}

  /** Every object under {@code prefix}, now, in the watch cache's compact form. */
  public CompletableFuture<CachedPage> listCached(String prefix) {
    byte[] p = key(prefix);
    RangeQuery q = new RangeQuery(p, RangeQuery.prefixEnd(p), 0, 0, null);
    return wrap(store.range(q))
        .thenApply(
            r -> {
              List<String> keys = new ArrayList<>(r.kvs().size());
              List<CachedObject> objects = new ArrayList<>(r.kvs().size());
              for (Kv kv : r.kvs()) {
                keys.add(kv.keyUtf8());
                objects.add(cached(kv));
              }
              return new CachedPage(keys, objects, r.revision());
            });
  }

  private Page page(RangeResult r) {
    List<Stored> items = new ArrayList<>(r.kvs().size());
    String last = null;
    for (Kv kv : r.kvs()) {
      items.add(decode(kv));
      last = kv.keyUtf8();
    }
    return new Page(items, r.more(), last, r.revision());
  }

  public CompletableFuture<Long> currentRevision() {
    return wrap(store.currentRevision());
  }

  /** A store watch on every key under {@code prefix}, from {@code startRevision} (0 = now). */
  public Watch watch(String prefix, long startRevision, WatchListener listener) {
    return store.watch(WatchOptions.prefix(key(prefix), startRevision, true), listener);
  }

  /**
   * A store watch delivering decoded objects (a watch of its own per caller). A value that cannot
   * be decoded (not decryptable) ends the watch with {@link ObjectWatcher#onError}.
   */
  public Watch watchObjects(String prefix, long startRevision, ObjectWatcher watcher) {
    AtomicBoolean ended = new AtomicBoolean();
    AtomicReference<Watch> handle = new AtomicReference<>();
    Watch w =
        watch(
            prefix,
            startRevision,
            new WatchListener() {
              @Override
              public void onEvents(List<WatchEvent> events) {
                if (ended.get()) {
                  return;
                }
                List<ObjectEvent> out = new ArrayList<>(events.size());
                try {
                  for (WatchEvent e : events) {
                    out.add(event(e));
                  }
                } catch (ApiException e) {
                  if (ended.compareAndSet(false, true)) {
                    Watch h = handle.get();
                    if (h != null) {
                      h.close();
                    }
                    watcher.onError(e);
                  }
                  return;
                }
                watcher.onEvents(out);
              }

              @Override
              public void onProgress(long revision) {
                if (!ended.get()) {
                  watcher.onProgress(revision);
                }
              }

              @Override
              public void onCompacted(long compactRevision) {
                if (ended.compareAndSet(false, true)) {
                  watcher.onExpired(compactRevision);
                }
              }

              @Override
              public void onError(KvStoreException error) {
                if (ended.compareAndSet(false, true)) {
                  watcher.onError(translate(error));
                }
              }
            });
    handle.set(w);
    if (ended.get()) {
      w.close();
    }
    return w;
  }

  /** A store event as an object event (the deleted object carries the deletion's revision). */
  ObjectEvent event(WatchEvent e) {
    Compact prev = e.prevKv() == null ? null : compact(e.prevKv());
    CachedObject previous = prev == null ? null : prev.cached();
    if (e.type() == WatchEvent.Type.PUT) {
      return new ObjectEvent(
          ObjectEvent.Type.PUT, e.kv().keyUtf8(), cached(e.kv()), previous, e.revision());
    }
    String rv = Long.toString(e.revision());
    CachedObject last;
    if (prev == null) {
      ObjectNode o = Json.object();
      Json.child(o, "metadata").put("resourceVersion", rv);
      last = CachedObject.of(o, e.revision(), Json.bytes(o));
    } else {
      last =
          prev.cached()
              .withJson(answerJson(e.prevKv(), prev.read(), prev.hadRv(), rv), e.revision());
    }
    return new ObjectEvent(ObjectEvent.Type.DELETE, e.kv().keyUtf8(), last, previous, e.revision());
  }

  /**
   * A stored value decoded for the watch cache: its plaintext, whether the stored object carries a
   * resourceVersion of its own (then its answer is serialised from the parsed object, not spliced),
   * and its compact form.
   */
  private record Compact(ValueTransformer.Read read, boolean hadRv, CachedObject cached) {}

  /**
   * A stored value in the watch cache's compact form, without building its whole tree (decision
   * 0107: only the paths selectors read are copied out of the parse); it fails as {@link #decode}
   * does.
   */
  public CachedObject cached(Kv kv) {
    return compact(kv).cached();
  }

  private Compact compact(Kv kv) {
    String key = kv.keyUtf8();
    ValueTransformer.Read r = open(key, kv.value());
    ObjectNode o = CachedObject.skeleton(r.plain());
    if (o == null) {
      o = parse(key, kv, r); // not one valid JSON object: the error a decode gives
    }
    boolean hadRv = o.get("metadata") instanceof ObjectNode m && m.has("resourceVersion");
    String rv = Long.toString(kv.modRevision());
    Json.child(o, "metadata").put("resourceVersion", rv);
    return new Compact(
        r, hadRv, CachedObject.of(o, kv.modRevision(), answerJson(kv, r, hadRv, rv)));
  }

  /**
   * The JSON a read answers for a stored value with resourceVersion {@code rv}: the stored bytes
   * with the resourceVersion spliced in (decision 0100) when they are in the form this server
   * writes, else the parsed object serialised with it.
   */
  private byte[] answerJson(Kv kv, ValueTransformer.Read r, boolean hadRv, String rv) {
    byte[] spliced = hadRv ? null : Json.withResourceVersion(r.plain(), rv);
    if (spliced != null) {
      return spliced;
    }
    ObjectNode full = parse(kv.keyUtf8(), kv, r);
    Json.child(full, "metadata").put("resourceVersion", rv);
    return Json.bytes(full);
  }

  private Written written(String key, WriteResult r, ObjectNode obj, Outcome failure, byte[] json) {
    return switch (r.status()) {
      case OK -> {
        wrote(key, r.revision());
        yield new Written(
            Outcome.OK, new Stored(key, withRv(obj, r.revision()), r.revision()), json);
      }
      case ALREADY_EXISTS, CONFLICT -> new Written(failure, decode(r.kv()));
      case NOT_FOUND -> new Written(Outcome.NOT_FOUND, null);
    };
  }

  private static ObjectNode withRv(ObjectNode obj, long rev) {
    Json.child(obj, "metadata").put("resourceVersion", Long.toString(rev));
    return obj;
  }

  /** {@code json} as stored under {@code key}: with its resource's current write provider. */
  byte[] seal(String key, byte[] json) {
    try {
      return transformers.forKey(key).toStorage(json, key(key));
    } catch (ValueTransformException e) {
      throw (ApiException)
          ApiException.internal("cannot store " + key + ": " + e.getMessage()).initCause(e);
    }
  }

  /** The plaintext of a stored value, and whether it is stale; throws {@link #unreadable}. */
  ValueTransformer.Read open(String key, byte[] stored) {
    try {
      return transformers.forKey(key).fromStorage(stored, key(key));
    } catch (ValueTransformException e) {
      throw unreadable(key, e);
    }
  }

  /**
   * A stored value no configured provider can read: 409 Conflict naming the key and what to do
   * (kube-apiserver answers 500 "unable to transform key"; a 5xx would make clients retry a request
   * that cannot succeed until the configuration changes — see decision 0093).
   */
  static ApiException unreadable(String key, ValueTransformException e) {
    return (ApiException)
        ApiException.storedValueUnreadable(
                "the object stored at "
                    + key
                    + " cannot be read by this API server: "
                    + e.getMessage())
            .initCause(e);
  }

  /** A stored value as an object with resourceVersion = its mod revision; null for null. */
  public Stored decode(Kv kv) {
    if (kv == null) {
      return null;
    }
    String key = kv.keyUtf8();
    ValueTransformer.Read r = open(key, kv.value());
    ObjectNode o = parse(key, kv, r);
    Json.child(o, "metadata").put("resourceVersion", Long.toString(kv.modRevision()));
    return new Stored(key, o, kv.modRevision(), r.stale());
  }

  /** The opened (decrypted) value as a JSON object, or the error a reader is given. */
  private ObjectNode parse(String key, Kv kv, ValueTransformer.Read r) {
    try {
      return Json.readStored(r.plain(), key);
    } catch (ApiException e) {
      if (r.plain() == kv.value()) {
        throw e; // stored in plaintext: not ours to explain
      }
      // aescbc is not authenticated: a wrong key can yield valid padding and garbage.
      throw unreadable(
          key,
          new ValueTransformException(
              "the value stored with "
                  + ValueTransformer.storedPrefix(kv.value())
                  + " decrypts to bytes that are not a JSON object: the key named in the prefix"
                  + " is not the key that encrypted it; put the right secret for that key name in"
                  + " --encryption-provider-config and restart the API server"));
    }
  }

  /** The failure inside a future's {@link CompletionException} wrappers. */
  public static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /** Store failures as the HTTP answers Kubernetes gives for them. */
  public static ApiException translate(Throwable t) {
    Throwable c = unwrap(t);
    if (c instanceof ApiException a) {
      return a;
    }
    if (c instanceof KvStoreException k) {
      return switch (k.code()) {
        case COMPACTED -> ApiException.expired("too old resource version: " + k.getMessage());
        case FUTURE_REVISION ->
            ApiException.timeout(
                "Too large resource version: the store has not reached it yet ("
                    + k.getMessage()
                    + ")");
        case TOO_LARGE ->
            ApiException.tooLarge(
                "the object is larger than the store accepts (etcd's request limit, 1.5 MiB by"
                    + " default): "
                    + k.getMessage());
        case UNAVAILABLE, CLOSED ->
            ApiException.unavailable("the store is unavailable: " + k.getMessage());
        case UNKNOWN_OUTCOME ->
            ApiException.timeout(
                "the store did not confirm the request in time; it may or may not have been"
                    + " applied: "
                    + k.getMessage());
        case INVALID_ARGUMENT, INTERNAL ->
            ApiException.internal("the store failed the request: " + k.getMessage());
      };
    }
    return ApiException.internal("unexpected failure: " + c);
  }

  private static <T> CompletableFuture<T> wrap(CompletableFuture<T> f) {
    return f.handle(
        (v, e) -> {
          if (e != null) {
            throw translate(e);
          }
          return v;
        });
  }
}

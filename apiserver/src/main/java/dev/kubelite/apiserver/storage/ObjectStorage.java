package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Kubernetes objects in the store: one key per object, the value its JSON without {@code
 * metadata.resourceVersion} (which is the key's mod revision, added back on every read, as the real
 * API server does). The only code that talks to {@link KvStore}. Store failures become {@link
 * ApiException}s: compacted revision = 410 Expired, too large = 413, unreachable = 503, unknown
 * outcome = 504.
 */
public final class ObjectStorage {
  private final KvStore store;

  /**
   * Per tracked key prefix, the highest revision of a successful write this server made under it
   * (see {@link #trackWrites}).
   */
  private final Map<String, AtomicLong> ownWrites = new ConcurrentHashMap<>();

  public ObjectStorage(KvStore store) {
    this.store = store;
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

  /** An object as read from the store (its key, the object with resourceVersion set). */
  public record Stored(String key, ObjectNode object, long modRevision) {}

  /** A page of objects and the revision the page was read at. */
  public record Page(List<Stored> items, boolean more, String lastKey, long revision) {}

  /** Outcome of a conditional write. */
  public enum Outcome {
    OK,
    EXISTS,
    CONFLICT,
    NOT_FOUND
  }

  /** A write's outcome and the object now stored under the key (null if none). */
  public record Written(Outcome outcome, Stored current) {}

  public static byte[] key(String key) {
    return key.getBytes(StandardCharsets.UTF_8);
  }

  public CompletableFuture<Stored> get(String key) {
    return wrap(store.get(key(key))).thenApply(GetResult::kv).thenApply(kv -> decode(kv));
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
    return wrap(store.create(key(key), Json.bytes(obj)))
        .thenApply(
            r -> {
              if (r.status() == WriteResult.Status.OK) {
                wrote(key, r.revision());
                Json.child(obj, "metadata").put("resourceVersion", Long.toString(r.revision()));
                return new Written(Outcome.OK, new Stored(key, obj, r.revision()));
              }
              return written(key, r, obj, Outcome.EXISTS);
            });
  }

  public CompletableFuture<Written> update(String key, ObjectNode obj, long expectedModRevision) {
    return wrap(store.update(key(key), encode(obj), expectedModRevision))
        .thenApply(r -> written(key, r, obj, Outcome.CONFLICT));
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
    return wrap(store.range(q)).thenApply(ObjectStorage::page);
  }

  private static Page page(RangeResult r) {
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

  /** A store watch delivering decoded objects (a watch of its own per caller). */
  public Watch watchObjects(String prefix, long startRevision, ObjectWatcher watcher) {
    return watch(
        prefix,
        startRevision,
        new WatchListener() {
          @Override
          public void onEvents(List<WatchEvent> events) {
            List<ObjectEvent> out = new ArrayList<>(events.size());
            for (WatchEvent e : events) {
              out.add(event(e));
            }
            watcher.onEvents(out);
          }

          @Override
          public void onCompacted(long compactRevision) {
            watcher.onExpired(compactRevision);
          }

          @Override
          public void onError(KvStoreException error) {
            watcher.onError(translate(error));
          }
        });
  }

  /** A store event as an object event (the deleted object carries the deletion's revision). */
  static ObjectEvent event(WatchEvent e) {
    ObjectNode prev = e.prevKv() == null ? null : decode(e.prevKv()).object();
    if (e.type() == WatchEvent.Type.PUT) {
      return new ObjectEvent(
          ObjectEvent.Type.PUT, e.kv().keyUtf8(), decode(e.kv()).object(), prev, e.revision());
    }
    ObjectNode last = prev == null ? Json.object() : prev.deepCopy();
    Json.child(last, "metadata").put("resourceVersion", Long.toString(e.revision()));
    return new ObjectEvent(ObjectEvent.Type.DELETE, e.kv().keyUtf8(), last, prev, e.revision());
  }

  private Written written(String key, WriteResult r, ObjectNode obj, Outcome failure) {
    return switch (r.status()) {
      case OK -> {
        wrote(key, r.revision());
        yield new Written(Outcome.OK, new Stored(key, withRv(obj, r.revision()), r.revision()));
      }
      case ALREADY_EXISTS, CONFLICT -> new Written(failure, decode(r.kv()));
      case NOT_FOUND -> new Written(Outcome.NOT_FOUND, null);
    };
  }

  private static ObjectNode withRv(ObjectNode obj, long rev) {
    ObjectNode copy = obj.deepCopy();
    Json.child(copy, "metadata").put("resourceVersion", Long.toString(rev));
    return copy;
  }

  /** The stored bytes: the object without resourceVersion (it is the key's mod revision). */
  static byte[] encode(ObjectNode obj) {
    ObjectNode copy = obj.deepCopy();
    if (copy.get("metadata") instanceof ObjectNode m) {
      m.remove("resourceVersion");
      m.remove("selfLink");
    }
    return Json.bytes(copy);
  }

  /** A stored value as an object with resourceVersion = its mod revision; null for null. */
  public static Stored decode(Kv kv) {
    if (kv == null) {
      return null;
    }
    ObjectNode o = Json.readStored(kv.value(), kv.keyUtf8());
    Json.child(o, "metadata").put("resourceVersion", Long.toString(kv.modRevision()));
    return new Stored(kv.keyUtf8(), o, kv.modRevision());
  }

  /** Store failures as the HTTP answers Kubernetes gives for them. */
  public static ApiException translate(Throwable t) {
    Throwable c = t;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
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

package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.store.client.Watch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watch cache of one resource type: one store watch on the type's key prefix feeds an in-memory
 * copy of every object and a window of recent events. Client watches are served from it (replaying
 * the window from their resourceVersion, then live), so a thousand client watches cost the store
 * one watch; lists with {@code resourceVersion=0} are served from the copy. A watch from a revision
 * older than the window is refused ({@link #watch} returns null) and the caller falls back to a
 * store watch of its own, which answers 410 only if the store has compacted it.
 *
 * <p>Delivery to a watcher happens under the cache's lock but never blocks: watchers only queue the
 * events for their own event loop (see WatchHandler, which drops a client that falls behind).
 */
public final class WatchCache {
  private static final Logger log = LoggerFactory.getLogger(WatchCache.class);

  /** Events kept for watches that start from a recent resourceVersion. */
  public static final int DEFAULT_WINDOW = 1000;

  private final ObjectStorage storage;
  private final String prefix;
  private final int window;

  private final Object lock = new Object();

  /**
   * The current objects, compact (JSON, labels, selectable fields; no trees, no watch lines:
   * decision 0104).
   */
  private final TreeMap<String, CachedObject> objects = new TreeMap<>();

  private final ArrayDeque<ObjectEvent> events = new ArrayDeque<>();
  private final List<Registration> watchers = new CopyOnWriteArrayList<>();

  /** Revision the cache reflects; events after it are not applied yet. */
  private long revision;

  /** Events with revision > this are all in {@link #events}. */
  private long windowStart;

  private volatile Watch storeWatch;
  private volatile boolean closed;

  /** The revision of this server's latest own write under the prefix. */
  private final LongSupplier ownWrites;

  public WatchCache(ObjectStorage storage, String prefix, int window) {
    this.storage = storage;
    this.prefix = prefix;
    this.window = window;
    this.ownWrites = storage.trackWrites(prefix);
  }

  /**
   * A cached read: whether the cache could answer, and the object (null if it holds none; {@link
   * CachedObject#object} parses it).
   */
  public record Lookup(boolean answered, CachedObject object) {}

  private static final Lookup NOT_ANSWERED = new Lookup(false, null);

  /**
   * The object under {@code key} as the cache holds it, provided the cache is running and has seen
   * every write this API server made under its prefix (so a client always reads its own writes);
   * otherwise {@code answered} is false and the caller must read the store. Like an informer's
   * lister in kube-apiserver's admission, it may lag behind writes made by other API servers.
   */
  public Lookup lookup(String key) {
    synchronized (lock) {
      if (closed || windowStart == Long.MAX_VALUE) {
        return NOT_ANSWERED;
      }
      if (revision < ownWrites.getAsLong()) {
        return NOT_ANSWERED;
      }
      return new Lookup(true, objects.get(key));
    }
  }

  /**
   * The object under {@code key} as the cache holds it, or null (not running, or no such object),
   * whether or not the cache has seen this server's own latest writes: only for a caller that
   * checks the object's resourceVersion itself (an update with the resourceVersion its client read,
   * whose write is conditional on it).
   */
  public CachedObject peek(String key) {
    synchronized (lock) {
      if (closed || windowStart == Long.MAX_VALUE) {
        return null;
      }
      return objects.get(key);
    }
  }

  /** Lists the prefix and starts the store watch after that revision. */
  public CompletableFuture<Void> start() {
    return storage
        .listCached(prefix)
        .thenAccept(
            page -> {
              synchronized (lock) {
                objects.clear();
                events.clear();
                for (int i = 0; i < page.keys().size(); i++) {
                  objects.put(page.keys().get(i), page.objects().get(i));
                }
                revision = page.revision();
                windowStart = page.revision();
              }
              storeWatch = storage.watchObjects(prefix, page.revision() + 1, new Feed());
              if (closed) {
                storeWatch.close(); // closed while listing (e.g. while retrying to start)
              }
              log.debug(
                  "watch cache {} started at revision {} with {} objects",
                  prefix,
                  revision,
                  objects.size());
            });
  }

  public String prefix() {
    return prefix;
  }

  /**
   * The objects under {@code keyPrefix} (a namespace's, or all), compact, in key order, and the
   * revision they reflect.
   */
  public record Snapshot(List<CachedObject> entries, long revision) {
    /** The objects as trees of the caller's own (each parsed now). */
    public List<ObjectNode> items() {
      return entries.stream().map(CachedObject::object).toList();
    }
  }

  public Snapshot snapshot(String keyPrefix) {
    synchronized (lock) {
      List<CachedObject> items = new ArrayList<>();
      for (Map.Entry<String, CachedObject> e : objects.tailMap(keyPrefix, true).entrySet()) {
        if (!e.getKey().startsWith(keyPrefix)) {
          break;
        }
        items.add(e.getValue());
      }
      return new Snapshot(items, revision);
    }
  }

  /**
   * Watches keys under {@code keyPrefix} from after {@code fromRevision}: buffered events newer
   * than it, then live ones. Returns null if events after {@code fromRevision} are no longer (or
   * not yet) in the window: the caller must watch the store directly.
   */
  public Watch watch(String keyPrefix, long fromRevision, ObjectWatcher watcher) {
    synchronized (lock) {
      if (closed || fromRevision < windowStart) {
        return null;
      }
      Registration r = new Registration(keyPrefix, watcher);
      List<ObjectEvent> replay = new ArrayList<>();
      for (ObjectEvent e : events) {
        if (e.revision() > fromRevision && e.key().startsWith(keyPrefix)) {
          replay.add(e);
        }
      }
      if (!replay.isEmpty()) {
        watcher.onEvents(replay);
      }
      r.after = Math.max(fromRevision, revision);
      watchers.add(r);
      return new Watch() {
        @Override
        public void requestProgress() {
          WatchCache.this.requestProgress(); // the answer reaches every client watch
        }

        @Override
        public void close() {
          watchers.remove(r);
        }
      };
    }
  }

  /**
   * Asks the store how far the cache's watch has got; the answer moves {@link #revision} past
   * writes to other types and reaches every client watch, whose next bookmark then carries it
   * (kube-apiserver's watch cache does the same with etcd's progress notifications).
   */
  public void requestProgress() {
    Watch w = storeWatch;
    if (w != null && !closed) {
      w.requestProgress();
    }
  }

  /** The number of client watches served (for tests and metrics). */
  public int watcherCount() {
    return watchers.size();
  }

  public long revision() {
    synchronized (lock) {
      return revision;
    }
  }

  public void close() {
    closed = true;
    if (storeWatch != null) {
      storeWatch.close();
    }
  }

  private final class Registration {
    final String keyPrefix;
    final ObjectWatcher watcher;

    /** Events at or below this revision were replayed already. */
    long after;

    Registration(String keyPrefix, ObjectWatcher watcher) {
      this.keyPrefix = keyPrefix;
      this.watcher = watcher;
    }
  }

  /** The cache's own store watch. */
  private final class Feed implements ObjectWatcher {
    @Override
    public void onEvents(List<ObjectEvent> batch) {
      synchronized (lock) {
        for (ObjectEvent e : batch) {
          String k = e.key();
          if (e.type() == ObjectEvent.Type.PUT) {
            objects.put(k, e.cached());
          } else {
            objects.remove(k);
          }
          events.addLast(e);
          revision = e.revision();
        }
        while (events.size() > window) {
          windowStart = events.removeFirst().revision();
        }
        for (Registration r : watchers) {
          List<ObjectEvent> mine = new ArrayList<>();
          for (ObjectEvent e : batch) {
            if (e.revision() > r.after && e.key().startsWith(r.keyPrefix)) {
              mine.add(e);
            }
          }
          if (!mine.isEmpty()) {
            r.watcher.onEvents(mine);
          }
        }
      }
    }

    @Override
    public void onProgress(long progress) {
      synchronized (lock) {
        if (progress <= revision || windowStart == Long.MAX_VALUE) {
          return;
        }
        revision = progress;
        // Under the lock, so it reaches each watcher behind every event up to this revision.
        for (Registration r : watchers) {
          r.watcher.onProgress(progress);
        }
      }
    }

    @Override
    public void onExpired(long compactRevision) {
      restart("its start revision was compacted (" + compactRevision + ")");
    }

    @Override
    public void onError(ApiException error) {
      restart(error.getMessage());
    }

    /**
     * The store watch ended: every client watch ends with 410 (they re-list, as after a
     * kube-apiserver restart) and the cache lists and watches again.
     */
    private void restart(String why) {
      if (closed) {
        return;
      }
      log.warn("watch cache {}: store watch ended ({}); re-listing", prefix, why);
      List<Registration> ended;
      synchronized (lock) {
        ended = new ArrayList<>(watchers);
        watchers.clear();
        windowStart = Long.MAX_VALUE;
      }
      for (Registration r : ended) {
        r.watcher.onExpired(revision);
      }
      startRetrying(1, () -> {});
    }
  }

  /** How long a cache waits between attempts to (re)start after a failed list. */
  static final long RETRY_MILLIS = 2_000;

  /**
   * Starts (lists and watches), retrying every {@link #RETRY_MILLIS} until it succeeds or the cache
   * is closed; then runs {@code started}. Meanwhile {@link #serving} is false: reads and watches of
   * the type go to the store, which answers each with its own error.
   */
  void startRetrying(int attempt, Runnable started) {
    if (closed) {
      return;
    }
    start()
        .whenComplete(
            (v, e) -> {
              if (e == null) {
                if (attempt > 1) {
                  log.info("watch cache {} started after {} attempts", prefix, attempt);
                }
                started.run();
                return;
              }
              if (attempt == 1 || attempt % 150 == 0) {
                log.error(
                    "watch cache {} cannot start (attempt {}): {}; its requests go to the store"
                        + " meanwhile, retrying every {} ms",
                    prefix,
                    attempt,
                    ObjectStorage.translate(e).getMessage(),
                    RETRY_MILLIS);
              }
              CompletableFuture.delayedExecutor(RETRY_MILLIS, TimeUnit.MILLISECONDS)
                  .execute(() -> startRetrying(attempt + 1, started));
            });
  }

  /** Whether the cache holds the type's objects and follows its store watch. */
  public boolean serving() {
    synchronized (lock) {
      return !closed && windowStart != Long.MAX_VALUE;
    }
  }
}

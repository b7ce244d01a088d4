package dev.kubelite.apiserver.storage;

import dev.kubelite.apiserver.encryption.ValueTransformException;
import dev.kubelite.store.client.Watch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watch caches, one per resource key prefix, and the rule for serving a watch: from the cache
 * when its window covers the start revision, else from a store watch of its own.
 */
public final class WatchCaches {
  private static final Logger log = LoggerFactory.getLogger(WatchCaches.class);
  private final ObjectStorage storage;
  private final Map<String, WatchCache> caches = new ConcurrentHashMap<>();

  /** Prefixes whose cache is starting (or retrying to start). */
  private final Set<String> pending = ConcurrentHashMap.newKeySet();

  /** Caches retrying to start in the background (closed with the others). */
  private final Set<WatchCache> retrying = ConcurrentHashMap.newKeySet();

  /** How often every cache asks the store for progress (bookmarks on quiet types move on). */
  public static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(5);

  private final ScheduledExecutorService progress;

  public WatchCaches(ObjectStorage storage) {
    this(storage, PROGRESS_INTERVAL);
  }

  public WatchCaches(ObjectStorage storage, Duration progressInterval) {
    this.storage = storage;
    this.progress =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "watch-cache-progress");
              t.setDaemon(true);
              return t;
            });
    long ms = progressInterval.toMillis();
    progress.scheduleAtFixedRate(this::requestProgress, ms, ms, TimeUnit.MILLISECONDS);
  }

  /**
   * Asks the store for the progress of every serving cache's watch, now (the timer calls this every
   * {@link #PROGRESS_INTERVAL}); the answers arrive on their own.
   */
  public void requestProgress() {
    for (WatchCache c : caches.values()) {
      if (c.serving()) {
        try {
          c.requestProgress();
        } catch (RuntimeException e) {
          // Logged, not thrown: an exception would cancel the timer for every cache.
          log.warn("watch cache {}: cannot ask the store for progress", c.prefix(), e);
        }
      }
    }
  }

  /**
   * Starts a cache for each type prefix ({@code /registry/pods/}); completes when all are ready.
   */
  public CompletableFuture<Void> start(List<String> typePrefixes, int window) {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (String p : typePrefixes) {
      if (caches.containsKey(p)) {
        continue; // started by an earlier attempt
      }
      if (!pending.add(p)) {
        continue; // still retrying since an earlier attempt
      }
      WatchCache c = new WatchCache(storage, p, window);
      // Served only once it holds the type's objects (a cache still listing would answer empty).
      all.add(
          c.start()
              .handle(
                  (v, e) -> {
                    if (e == null) {
                      caches.put(p, c);
                      pending.remove(p);
                      return null;
                    }
                    if (ValueTransformException.in(e)) {
                      // One object no provider can decrypt must not keep the whole API server
                      // unready: this type is served from the store (each request that meets the
                      // object fails with its own error) while the cache retries.
                      retrying.add(c);
                      c.startRetrying(
                          1,
                          () -> {
                            caches.put(p, c);
                            retrying.remove(c);
                            pending.remove(p);
                          });
                      return null;
                    }
                    pending.remove(p);
                    throw e instanceof CompletionException ce ? ce : new CompletionException(e);
                  }));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /** The cache of a type, or null if none runs (or it is restarting). */
  public WatchCache cache(String typePrefix) {
    WatchCache c = caches.get(typePrefix);
    return c != null && c.serving() ? c : null;
  }

  /** Where a watch was served from (tests and logs). */
  public enum Source {
    CACHE,
    STORE
  }

  /** A running watch and where it is served from. */
  public record Served(Watch watch, Source source) {}

  /** Watches keys under {@code keyPrefix} after {@code fromRevision}. */
  public Served watch(String typePrefix, String keyPrefix, long fromRevision, ObjectWatcher w) {
    WatchCache c = caches.get(typePrefix);
    if (c != null) {
      Watch cached = c.watch(keyPrefix, fromRevision, w);
      if (cached != null) {
        return new Served(cached, Source.CACHE);
      }
    }
    return new Served(storage.watchObjects(keyPrefix, fromRevision + 1, w), Source.STORE);
  }

  public void close() {
    progress.shutdownNow();
    caches.values().forEach(WatchCache::close);
    retrying.forEach(WatchCache::close);
  }
}

package dev.kubelite.client.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.Watch;
import dev.kubelite.client.WatchEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a local {@link Indexer} in step with one resource type (optionally one namespace and
 * selectors) through list+watch on the API server, and tells {@link EventHandler}s what changed.
 *
 * <ul>
 *   <li>Lists (a consistent read), replaces the cache with the result, then watches from the list's
 *       resourceVersion with bookmarks.
 *   <li>When the stream ends or breaks, it watches again from the last resourceVersion it saw (an
 *       event's or a BOOKMARK's), so nothing is lost or delivered twice.
 *   <li>When the server answers 410 Gone (that resourceVersion is compacted), it lists again and
 *       delivers the difference between the cache and the new list as adds, updates and deletes.
 *   <li>Every {@code resyncPeriod} (if not zero) each cached object is delivered again as an update
 *       with old == new, so handlers can re-check what they may have missed.
 * </ul>
 *
 * Handlers run on one dispatcher thread, in the order the cache changed, never concurrently.
 */
public final class Informer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Informer.class);

  /**
   * @param resyncPeriod zero for none
   * @param watchTimeoutSeconds the server ends each watch after a random time between this and
   *     twice this (client-go: 5–10 minutes); the informer then watches again
   */
  public record Options(
      ListOptions selectors, Duration resyncPeriod, long watchTimeoutSeconds, Duration maxBackoff) {
    public static Options defaults() {
      return new Options(ListOptions.NONE, Duration.ZERO, 300, Duration.ofSeconds(30));
    }

    public Options withSelectors(ListOptions s) {
      return new Options(s, resyncPeriod, watchTimeoutSeconds, maxBackoff);
    }

    public Options withResync(Duration d) {
      return new Options(selectors, d, watchTimeoutSeconds, maxBackoff);
    }

    public Options withWatchTimeoutSeconds(long s) {
      return new Options(selectors, resyncPeriod, s, maxBackoff);
    }

    public Options withMaxBackoff(Duration d) {
      return new Options(selectors, resyncPeriod, watchTimeoutSeconds, d);
    }
  }

  private final KubeClient client;
  private final Resource resource;
  private final String namespace;
  private final Options options;
  private final String name;
  private final Indexer indexer = new Indexer();
  private final List<EventHandler> handlers = new CopyOnWriteArrayList<>();
  private final ExecutorService dispatcher;
  private final ScheduledExecutorService resyncTimer;
  private final Thread reflector;
  private final Object changeLock = new Object();
  private volatile boolean closed;
  private volatile boolean synced;
  private volatile boolean started;
  private volatile String lastResourceVersion = "";
  private volatile Watch currentWatch;
  private volatile long lists;
  private volatile long watches;
  private volatile long bookmarks;

  public Informer(KubeClient client, Resource resource, String namespace, Options options) {
    this.client = client;
    this.resource = resource;
    this.namespace = namespace;
    this.options = options;
    this.name = resource + (namespace == null ? "" : "@" + namespace);
    this.dispatcher =
        Executors.newSingleThreadExecutor(r -> daemon(r, "informer-" + resource.resource()));
    this.resyncTimer =
        Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "resync-" + resource.resource()));
    this.reflector = daemon(this::run, "reflector-" + resource.resource());
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** The local cache; add indexes before {@link #start()}. */
  public Indexer indexer() {
    return indexer;
  }

  /** One handler's registration: whether that handler has been told about the first list. */
  public interface Registration {
    /**
     * True once this handler has been given every object of the informer's first list: for a
     * handler added after the start, once the cached objects replayed to it as adds have been
     * delivered (client-go's {@code ResourceEventHandlerRegistration.HasSynced}).
     */
    boolean hasSynced();
  }

  /**
   * Adds a handler. Added after the start, it first gets every cached object as an add (client-go
   * does the same), then the changes; its {@link Registration} tells when those adds are delivered.
   */
  public Registration addEventHandler(EventHandler h) {
    synchronized (changeLock) {
      handlers.add(h);
      if (!started) {
        return this::hasSynced;
      }
      for (ObjectNode o : indexer.list()) {
        dispatcher.execute(() -> call(h, "add", () -> h.onAdd(o)));
      }
      java.util.concurrent.atomic.AtomicBoolean replayed =
          new java.util.concurrent.atomic.AtomicBoolean();
      dispatcher.execute(() -> replayed.set(true));
      return () -> replayed.get() && synced;
    }
  }

  /** Removes a handler: it gets no further calls once a call in progress (if any) has returned. */
  public void removeEventHandler(EventHandler h) {
    synchronized (changeLock) {
      handlers.remove(h);
    }
  }

  public void start() {
    synchronized (changeLock) {
      if (started) {
        throw new IllegalStateException("informer " + name + " started already");
      }
      started = true;
    }
    reflector.start();
    long resync = options.resyncPeriod().toMillis();
    if (resync > 0) {
      resyncTimer.scheduleAtFixedRate(this::resync, resync, resync, TimeUnit.MILLISECONDS);
    }
  }

  /** True once the handlers have been told about every object of the first list. */
  public boolean hasSynced() {
    return synced;
  }

  /** The resourceVersion the next watch starts from. */
  public String lastResourceVersion() {
    return lastResourceVersion;
  }

  /** How many lists (the first one and re-lists after 410) and watches it has made. */
  public long listCount() {
    return lists;
  }

  public long watchCount() {
    return watches;
  }

  /** How many BOOKMARK events it has seen. */
  public long bookmarkCount() {
    return bookmarks;
  }

  private void run() {
    long backoffMs = 100;
    while (!closed) {
      try {
        listAndReplace();
        backoffMs = 100;
        while (!closed) {
          if (watchOnce()) {
            backoffMs = 100;
          } else {
            backoffMs = pause(backoffMs);
          }
        }
      } catch (GoneException gone) {
        LOG.info(
            "{}: resourceVersion {} is gone ({}), listing again",
            name,
            lastResourceVersion,
            gone.getMessage());
      } catch (ApiException | UncheckedIOException e) {
        if (closed) {
          return;
        }
        LOG.warn("{}: list failed, retrying in {} ms: {}", name, backoffMs, e.getMessage());
        backoffMs = pause(backoffMs);
      } catch (RuntimeException e) {
        if (closed) {
          return;
        }
        LOG.error("{}: unexpected failure, listing again in {} ms", name, backoffMs, e);
        backoffMs = pause(backoffMs);
      }
    }
  }

  private long pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
    return Math.min(ms * 2, options.maxBackoff().toMillis());
  }

  /** Signals a 410 from a watch: the caller lists again. */
  private static final class GoneException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GoneException(String message) {
      super(message);
    }
  }

  private void listAndReplace() {
    ObjectNode list =
        client.list(resource, namespace, options.selectors().withResourceVersion(null));
    lists++;
    String rv = list.path("metadata").path("resourceVersion").asText("");
    Map<String, ObjectNode> fresh = new HashMap<>();
    for (JsonNode item : list.path("items")) {
      if (item instanceof ObjectNode o) {
        fresh.put(Meta.key(o), o);
      }
    }
    int adds = 0;
    int updates = 0;
    int deletes = 0;
    synchronized (changeLock) {
      Set<String> gone = new HashSet<>(indexer.keys());
      gone.removeAll(fresh.keySet());
      for (String key : gone) {
        ObjectNode old = indexer.remove(key);
        deletes++;
        LOG.debug("{} {} DELETED (missing from re-list at rv={})", name, key, rv);
        dispatch(h -> h.onDelete(old), "delete");
      }
      for (Map.Entry<String, ObjectNode> e : fresh.entrySet()) {
        ObjectNode o = e.getValue();
        ObjectNode old = indexer.put(o);
        if (old == null) {
          adds++;
          LOG.debug("{} {} ADDED (list) rv={}", name, e.getKey(), Meta.resourceVersion(o));
          dispatch(h -> h.onAdd(o), "add");
        } else if (!Meta.resourceVersion(old).equals(Meta.resourceVersion(o))) {
          updates++;
          LOG.debug(
              "{} {} MODIFIED (re-list) rv={}→{}",
              name,
              e.getKey(),
              Meta.resourceVersion(old),
              Meta.resourceVersion(o));
          dispatch(h -> h.onUpdate(old, o), "update");
        }
      }
      lastResourceVersion = rv;
    }
    LOG.info(
        "{}: listed {} objects at rv={} ({} added, {} updated, {} deleted)",
        name,
        fresh.size(),
        rv,
        adds,
        updates,
        deletes);
    if (!synced) {
      dispatcher.execute(() -> synced = true);
    }
  }

  /**
   * One watch from {@link #lastResourceVersion} until the stream ends. Returns whether it got
   * anywhere (opened); throws {@link GoneException} on 410.
   */
  private boolean watchOnce() {
    long timeout =
        options.watchTimeoutSeconds()
            + ThreadLocalRandom.current().nextLong(options.watchTimeoutSeconds() + 1);
    ListOptions o =
        options
            .selectors()
            .withResourceVersion(lastResourceVersion)
            .withBookmarks(true)
            .withTimeoutSeconds(timeout);
    Watch w;
    try {
      w = client.watch(resource, namespace, o);
    } catch (ApiException e) {
      if (e.isGone()) {
        throw new GoneException(e.getMessage());
      }
      LOG.warn("{}: watch from rv={} refused: {}", name, lastResourceVersion, e.getMessage());
      return false;
    } catch (UncheckedIOException e) {
      if (!closed) {
        LOG.warn("{}: cannot watch from rv={}: {}", name, lastResourceVersion, e.getMessage());
      }
      return false;
    }
    watches++;
    currentWatch = w;
    LOG.debug("{}: watching from rv={}", name, lastResourceVersion);
    try (w) {
      WatchEvent e;
      while ((e = w.next()) != null) {
        if (e.isError()) {
          ApiException err = e.error();
          if (err.isGone()) {
            throw new GoneException(err.getMessage());
          }
          LOG.warn("{}: watch error event, watching again: {}", name, err.getMessage());
          return true;
        }
        apply(e);
      }
      LOG.debug("{}: watch ended by the server at rv={}", name, lastResourceVersion);
      return true;
    } catch (IOException | UncheckedIOException ex) {
      if (!closed) {
        LOG.info(
            "{}: watch broke ({}), watching again from rv={}",
            name,
            ex.getMessage(),
            lastResourceVersion);
      }
      return true;
    } finally {
      currentWatch = null;
    }
  }

  private void apply(WatchEvent e) {
    ObjectNode o = e.object();
    String rv = Meta.resourceVersion(o);
    String key = Meta.key(o);
    synchronized (changeLock) {
      switch (e.type()) {
        case "BOOKMARK" -> {
          bookmarks++;
          LOG.debug("{}: bookmark rv={}", name, rv);
        }
        case "ADDED", "MODIFIED" -> {
          ObjectNode old = indexer.put(o);
          LOG.debug("{} {} {} rv={}", name, key, e.type(), rv);
          if (old == null) {
            dispatch(h -> h.onAdd(o), "add");
          } else {
            dispatch(h -> h.onUpdate(old, o), "update");
          }
        }
        case "DELETED" -> {
          indexer.remove(key);
          LOG.debug("{} {} DELETED rv={}", name, key, rv);
          dispatch(h -> h.onDelete(o), "delete");
        }
        default -> LOG.warn("{}: unknown watch event type {} ignored", name, e.type());
      }
      if (rv != null && !rv.isEmpty()) {
        lastResourceVersion = rv;
      }
    }
  }

  private void resync() {
    synchronized (changeLock) {
      List<ObjectNode> all = indexer.list();
      LOG.debug("{}: resync of {} objects", name, all.size());
      for (ObjectNode o : all) {
        dispatch(h -> h.onUpdate(o, o), "resync");
      }
    }
  }

  private void dispatch(java.util.function.Consumer<EventHandler> call, String what) {
    dispatcher.execute(
        () -> {
          for (EventHandler h : handlers) {
            call(h, what, () -> call.accept(h));
          }
        });
  }

  private void call(EventHandler h, String what, Runnable r) {
    try {
      r.run();
    } catch (RuntimeException ex) {
      LOG.error("{}: {} handler {} failed", name, what, h, ex);
    }
  }

  @Override
  public void close() {
    closed = true;
    reflector.interrupt();
    Watch w = currentWatch;
    if (w != null) {
      try {
        w.close();
      } catch (UncheckedIOException e) {
        LOG.debug("{}: closing the watch: {}", name, e.getMessage());
      }
    }
    resyncTimer.shutdownNow();
    dispatcher.shutdown();
  }
}

package dev.kubelite.client.workqueue;

import dev.kubelite.client.ApiException;
import dev.kubelite.client.cache.Informer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker side of a controller: worker threads take keys from a {@link WorkQueue} and call the
 * {@link Reconciler}; a key whose reconcile throws is retried with the queue's per-key backoff (and
 * the failure logged with its cause), a key that succeeds has its failure count reset. Event
 * handlers feed the loop with {@link #enqueue}.
 *
 * <p>A reconciler that reads informer caches must not run before they have synced (client-go's
 * {@code WaitForCacheSync}): a ReplicaSet reconciled against a pod cache that has not listed yet
 * sees no pods and creates duplicates. {@link #start(Informer...)} and {@link
 * #start(BooleanSupplier)} start the worker threads at once, but the workers take no key until the
 * caches have synced; keys enqueued meanwhile stay queued (and deduplicated) and are reconciled
 * afterwards. See docs/decisions/0058-no-reconcile-before-caches-sync.md.
 */
public final class ReconcileLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReconcileLoop.class);

  /** Brings the world in line with what {@code key} (usually {@code namespace/name}) asks for. */
  @FunctionalInterface
  public interface Reconciler {
    void reconcile(String key) throws Exception;
  }

  private final String name;
  private final int workers;
  private final Reconciler reconciler;
  private final WorkQueue<String> queue;
  private final List<Thread> threads = new ArrayList<>();
  private final Object syncLock = new Object();
  // Guarded by syncLock (synced is also read without it).
  private BooleanSupplier cachesSynced;
  private volatile boolean synced;
  private boolean waitingLogged;
  private long waitStartNanos;

  public ReconcileLoop(String name, int workers, Reconciler reconciler, WorkQueue<String> queue) {
    if (workers < 1) {
      throw new IllegalArgumentException("a reconcile loop needs at least one worker: " + workers);
    }
    this.name = name;
    this.workers = workers;
    this.reconciler = reconciler;
    this.queue = queue;
  }

  public ReconcileLoop(String name, int workers, Reconciler reconciler) {
    this(name, workers, reconciler, new WorkQueue<>(name));
  }

  public WorkQueue<String> queue() {
    return queue;
  }

  public void enqueue(String key) {
    queue.add(key);
  }

  public void enqueueAfter(String key, Duration delay) {
    queue.addAfter(key, delay);
  }

  /**
   * Starts the worker threads for a reconciler that reads no informer cache: they take keys at
   * once. A reconciler that reads a cache must use {@link #start(Informer...)} or {@link
   * #start(BooleanSupplier)} instead.
   */
  public void start() {
    start((BooleanSupplier) null);
  }

  /**
   * Starts the worker threads; they take keys only once every one of {@code informers} has synced
   * (the informers are started by the caller).
   */
  public void start(Informer... informers) {
    List<Informer> all = List.of(informers);
    start(() -> all.stream().allMatch(Informer::hasSynced));
  }

  /**
   * Starts the worker threads (daemon threads named after the loop); they take keys only once
   * {@code synced} is true, asked every {@value #SYNC_POLL_MS} ms by a waiting worker, never on the
   * caller's thread, and not asked again once true. Keys enqueued before stay queued. Logs "waiting
   * for caches to sync" and "caches synced" (as client-go does). Null: no caches to wait for.
   */
  public synchronized void start(BooleanSupplier synced) {
    if (!threads.isEmpty()) {
      return;
    }
    synchronized (syncLock) {
      this.cachesSynced = synced;
      this.synced = synced == null;
      this.waitStartNanos = System.nanoTime();
    }
    for (int i = 0; i < workers; i++) {
      Thread t = new Thread(this::work, name + "-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Whether the workers have seen the caches synced and take keys. */
  public boolean cachesSynced() {
    return synced;
  }

  /** How often a waiting worker asks whether the caches have synced (client-go: 100 ms). */
  static final long SYNC_POLL_MS = 100;

  /** Blocks a worker until the caches have synced; false if the loop shut down first. */
  private boolean awaitCachesSynced() throws InterruptedException {
    if (synced) {
      return true;
    }
    synchronized (syncLock) {
      while (!synced) {
        if (queue.isShuttingDown()) {
          return false;
        }
        if (!waitingLogged) {
          log.info("{}: waiting for caches to sync", name);
          waitingLogged = true;
        }
        boolean now;
        try {
          now = cachesSynced.getAsBoolean();
        } catch (RuntimeException e) {
          log.error(
              "{}: cannot tell whether the caches have synced (a bug); asking again in {} ms",
              name,
              SYNC_POLL_MS,
              e);
          now = false;
        }
        if (now) {
          synced = true;
          syncLock.notifyAll();
          log.info(
              "{}: caches synced after {} ms; {} keys queued meanwhile",
              name,
              (System.nanoTime() - waitStartNanos) / 1_000_000,
              queue.len());
          return true;
        }
        syncLock.wait(SYNC_POLL_MS);
      }
      return true;
    }
  }

  private void work() {
    try {
      if (!awaitCachesSynced()) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    while (true) {
      String key;
      try {
        key = queue.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (key == null) {
        return;
      }
      try {
        reconciler.reconcile(key);
        queue.forget(key);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ApiException e) {
        Duration retryIn = queue.addRateLimited(key);
        if (e.isConflict()) {
          // Optimistic concurrency at work, not a fault: read again and redo.
          log.info(
              "{} {}: the object changed since it was read ({}); retrying in {} ms",
              name,
              key,
              e.getMessage(),
              retryIn.toMillis());
        } else {
          log.warn(
              "{} {}: reconcile failed, retrying in {} ms: {}",
              name,
              key,
              retryIn.toMillis(),
              e.toString(),
              e);
        }
      } catch (Exception e) {
        Duration retryIn = queue.addRateLimited(key);
        log.warn(
            "{} {}: reconcile failed, retrying in {} ms: {}",
            name,
            key,
            retryIn.toMillis(),
            e.toString(),
            e);
      } finally {
        queue.done(key);
      }
    }
  }

  /** Shuts the queue down and waits for the workers to finish their current key. */
  @Override
  public void close() {
    queue.shutdown();
    synchronized (syncLock) {
      syncLock.notifyAll();
    }
    List<Thread> started;
    synchronized (this) {
      started = List.copyOf(threads);
    }
    for (Thread t : started) {
      try {
        t.join(10_000);
        if (t.isAlive()) {
          log.warn("{}: worker {} still busy 10 s after shutdown; leaving it", name, t.getName());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}

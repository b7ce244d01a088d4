package dev.kubelite.client.workqueue;

import dev.kubelite.client.ApiException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker side of a controller: worker threads take keys from a {@link WorkQueue} and call the
 * {@link Reconciler}; a key whose reconcile throws is retried with the queue's per-key backoff (and
 * the failure logged with its cause), a key that succeeds has its failure count reset. Event
 * handlers feed the loop with {@link #enqueue}.
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

  /** Starts the worker threads (daemon threads named after the loop). */
  public synchronized void start() {
    if (!threads.isEmpty()) {
      return;
    }
    for (int i = 0; i < workers; i++) {
      Thread t = new Thread(this::work, name + "-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  private void work() {
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

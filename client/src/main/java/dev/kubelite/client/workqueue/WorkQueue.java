package dev.kubelite.client.workqueue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A work queue of keys for controllers, with client-go's semantics:
 *
 * <ul>
 *   <li><b>De-duplication</b>: a key added several times before a worker takes it is handed out
 *       once.
 *   <li><b>Never concurrently</b>: a key added while a worker processes it is not handed out until
 *       that worker calls {@link #done}; then it is queued again, so the change is not lost.
 *   <li><b>Rate-limited retries</b>: {@link #addRateLimited} re-adds a key after {@code base ×
 *       2^failures} (capped at {@code max}); {@link #forget} resets its failure count.
 *   <li><b>Delays</b>: {@link #addAfter}; a key waiting more than once keeps the earliest time.
 *   <li><b>Shutdown</b>: adds are ignored; workers get the keys still queued, then null.
 * </ul>
 *
 * Time comes from a {@link Clock} so tests can drive it; {@link #poll()} never blocks.
 */
public final class WorkQueue<T> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkQueue.class);

  /** A monotonic clock in nanoseconds. */
  public interface Clock {
    long nanoTime();

    Clock SYSTEM = System::nanoTime;
  }

  private record Waiting<T>(long readyAt, long seq, T item) {}

  private final String name;
  private final long baseNanos;
  private final long maxNanos;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<T> queue = new ArrayDeque<>();
  private final Set<T> dirty = new HashSet<>();
  private final Set<T> processing = new HashSet<>();
  private final PriorityQueue<Waiting<T>> waiting =
      new PriorityQueue<>(
          (a, b) ->
              a.readyAt != b.readyAt
                  ? Long.compare(a.readyAt - b.readyAt, 0)
                  : Long.compare(a.seq, b.seq));
  private final Map<T, Long> waitingUntil = new HashMap<>();
  private final Map<T, Integer> failures = new HashMap<>();
  private long seq;
  private boolean shuttingDown;

  public WorkQueue(String name, Duration baseDelay, Duration maxDelay, Clock clock) {
    this.name = name;
    this.baseNanos = baseDelay.toNanos();
    this.maxNanos = maxDelay.toNanos();
    this.clock = clock;
  }

  /** client-go's default controller limiter per key: 5 ms doubling up to 1000 s. */
  public WorkQueue(String name) {
    this(name, Duration.ofMillis(5), Duration.ofSeconds(1000), Clock.SYSTEM);
  }

  public void add(T item) {
    lock.lock();
    try {
      addLocked(item);
    } finally {
      lock.unlock();
    }
  }

  private void addLocked(T item) {
    if (shuttingDown || !dirty.add(item)) {
      return;
    }
    if (!processing.contains(item)) {
      queue.addLast(item);
      changed.signal();
    }
  }

  /** Adds the item once {@code delay} has passed (at once if it is zero or negative). */
  public void addAfter(T item, Duration delay) {
    long d = delay.toNanos();
    lock.lock();
    try {
      if (shuttingDown) {
        return;
      }
      if (d <= 0) {
        addLocked(item);
        return;
      }
      long at = clock.nanoTime() + d;
      Long existing = waitingUntil.get(item);
      if (existing != null && existing - at <= 0) {
        return;
      }
      waitingUntil.put(item, at);
      waiting.add(new Waiting<>(at, seq++, item));
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Re-adds after this item's backoff, and counts one more failure for it. */
  public Duration addRateLimited(T item) {
    Duration d;
    lock.lock();
    try {
      int n = failures.merge(item, 1, Integer::sum) - 1;
      long nanos = baseNanos;
      for (int i = 0; i < n && nanos < maxNanos; i++) {
        nanos *= 2;
      }
      d = Duration.ofNanos(Math.min(nanos, maxNanos));
    } finally {
      lock.unlock();
    }
    LOG.debug("{}: retry {} in {} ms (failure {})", name, item, d.toMillis(), numRequeues(item));
    addAfter(item, d);
    return d;
  }

  /** The item succeeded: its backoff starts from the base again. */
  public void forget(T item) {
    lock.lock();
    try {
      failures.remove(item);
    } finally {
      lock.unlock();
    }
  }

  public int numRequeues(T item) {
    lock.lock();
    try {
      return failures.getOrDefault(item, 0);
    } finally {
      lock.unlock();
    }
  }

  /** The next item, blocking; null once shut down and empty. Call {@link #done} after it. */
  public T get() throws InterruptedException {
    lock.lock();
    try {
      while (true) {
        promoteReady();
        if (!queue.isEmpty()) {
          return takeLocked();
        }
        if (shuttingDown) {
          return null;
        }
        Waiting<T> next = waiting.peek();
        if (next == null) {
          changed.await();
        } else {
          long wait = next.readyAt - clock.nanoTime();
          if (wait > 0) {
            changed.await(wait, TimeUnit.NANOSECONDS);
          }
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /** The next ready item or null, without blocking. */
  public T poll() {
    lock.lock();
    try {
      promoteReady();
      return queue.isEmpty() ? null : takeLocked();
    } finally {
      lock.unlock();
    }
  }

  private T takeLocked() {
    T item = queue.pollFirst();
    dirty.remove(item);
    processing.add(item);
    return item;
  }

  private void promoteReady() {
    long now = clock.nanoTime();
    while (!waiting.isEmpty() && waiting.peek().readyAt - now <= 0) {
      Waiting<T> w = waiting.poll();
      Long at = waitingUntil.get(w.item);
      if (at != null && at == w.readyAt) {
        waitingUntil.remove(w.item);
        addLocked(w.item);
      }
    }
  }

  /** The worker finished the item; if it was added meanwhile, it is queued again now. */
  public void done(T item) {
    lock.lock();
    try {
      processing.remove(item);
      if (dirty.contains(item)) {
        queue.addLast(item);
        changed.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Items ready to be handed out (not those waiting for a delay nor in processing). */
  public int len() {
    lock.lock();
    try {
      promoteReady();
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** Items waiting for their delay. */
  public int waitingCount() {
    lock.lock();
    try {
      return waitingUntil.size();
    } finally {
      lock.unlock();
    }
  }

  public void shutdown() {
    lock.lock();
    try {
      shuttingDown = true;
      waiting.clear();
      waitingUntil.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  public boolean isShuttingDown() {
    lock.lock();
    try {
      return shuttingDown;
    } finally {
      lock.unlock();
    }
  }

  /** Wakes blocked {@link #get()} callers to re-check delays (for clocks driven by tests). */
  public void wakeUp() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    shutdown();
  }
}

package dev.kubelite.scheduler.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.LongSupplier;

/**
 * The pods waiting to be scheduled, by key ({@code namespace/name}), in kube-scheduler's three
 * parts:
 *
 * <ul>
 *   <li><b>active</b>: ready to be tried, highest {@code spec.priority} first, then oldest;
 *   <li><b>backoff</b>: failed recently, waiting out their backoff ({@code initial ×
 *       2^(attempts-1)}, capped; 1 s → 10 s by default) before going back to active;
 *   <li><b>unschedulable</b>: fitted no node; they wait for a cluster event that may change that (a
 *       node added or changed, a pod deleted: {@link #moveAllToActiveOrBackoff}) or at most {@code
 *       maxInUnschedulable} (5 minutes), then go to backoff or active.
 * </ul>
 *
 * A popped pod is <i>in flight</i> until {@link #done}, {@link #unschedulable} or {@link #backoff}.
 * If a cluster event happened while it was in flight, {@link #unschedulable} puts it into backoff
 * instead — the event may have made it schedulable (kube-scheduler's move request cycle).
 * Thread-safe; {@link #pop} blocks.
 */
public final class SchedulingQueue implements AutoCloseable {
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Duration maxInUnschedulable;
  private final LongSupplier nanoClock;

  private final Map<String, Entry> entries = new HashMap<>();
  private final PriorityQueue<Entry> active =
      new PriorityQueue<>(
          Comparator.comparingInt((Entry e) -> -e.priority).thenComparingLong(e -> e.seq));
  private final PriorityQueue<Entry> backoff =
      new PriorityQueue<>(Comparator.comparingLong((Entry e) -> e.backoffUntil));
  private long seq;
  private long cycle;
  private long moveRequestCycle = -1;
  private boolean closed;
  private long lastStaleScan;
  private static final long STALE_SCAN_NANOS = 1_000_000_000L;

  private enum Where {
    ACTIVE,
    BACKOFF,
    UNSCHEDULABLE,
    IN_FLIGHT
  }

  private static final class Entry {
    final String key;
    int priority;
    long seq;
    int attempts;
    long backoffUntil;
    long unschedulableSince;
    long poppedInCycle;
    Where where;

    Entry(String key, int priority) {
      this.key = key;
      this.priority = priority;
    }
  }

  /** A popped pod: its key, this cycle's number and how many times it has been tried. */
  public record Popped(String key, long cycle, int attempts) {}

  public SchedulingQueue(
      Duration initialBackoff,
      Duration maxBackoff,
      Duration maxInUnschedulable,
      LongSupplier nanoClock) {
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    this.maxInUnschedulable = maxInUnschedulable;
    this.nanoClock = nanoClock;
    this.lastStaleScan = nanoClock.getAsLong();
  }

  /** kube-scheduler's defaults: backoff 1 s to 10 s, unschedulable pods retried after 5 min. */
  public SchedulingQueue() {
    this(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(5), System::nanoTime);
  }

  /** A new pending pod goes to active; a known one stays where it is. */
  public synchronized void add(String key, int priority) {
    if (closed || entries.containsKey(key)) {
      return;
    }
    Entry e = new Entry(key, priority);
    entries.put(key, e);
    toActive(e);
  }

  /**
   * A pending pod changed. If it waits as unschedulable and the change may matter (its spec, labels
   * or annotations changed), it is tried again (after its backoff); unknown pods are added.
   */
  public synchronized void update(String key, int priority, boolean specChanged) {
    Entry e = entries.get(key);
    if (e == null) {
      add(key, priority);
      return;
    }
    if (e.where == Where.ACTIVE && e.priority != priority) {
      active.remove(e);
      e.priority = priority;
      active.add(e);
      return;
    }
    e.priority = priority;
    if (e.where == Where.UNSCHEDULABLE && specChanged) {
      requeue(e);
    }
  }

  /** The pod is gone or bound: forget it wherever it is. */
  public synchronized void delete(String key) {
    Entry e = entries.remove(key);
    if (e == null) {
      return;
    }
    switch (e.where) {
      case ACTIVE -> active.remove(e);
      case BACKOFF -> backoff.remove(e);
      default -> {}
    }
  }

  /**
   * A cluster event that may make unschedulable pods fit (node added or changed, pod deleted): all
   * of them go to active, or to backoff if their backoff has not passed yet.
   */
  public synchronized void moveAllToActiveOrBackoff() {
    for (Entry e : List.copyOf(entries.values())) {
      if (e.where == Where.UNSCHEDULABLE) {
        requeue(e);
      }
    }
    moveRequestCycle = cycle;
    notifyAll();
  }

  /** The next pod to schedule; waits for one. Null once closed. */
  public synchronized Popped pop() throws InterruptedException {
    while (true) {
      Popped p = poll();
      if (p != null || closed) {
        return p;
      }
      long wait = Long.MAX_VALUE;
      long now = nanoClock.getAsLong();
      Entry next = backoff.peek();
      if (next != null) {
        wait = Math.max(1, next.backoffUntil - now);
      }
      long unschedulableWait = maxInUnschedulable.toNanos();
      wait = Math.min(wait, Math.min(unschedulableWait, Duration.ofSeconds(1).toNanos()));
      long ms = Math.max(1, wait / 1_000_000);
      wait(ms);
    }
  }

  /** The next pod to schedule, or null if none is ready now (never blocks). */
  public synchronized Popped poll() {
    flush(nanoClock.getAsLong());
    Entry e = active.poll();
    if (e == null) {
      return null;
    }
    e.where = Where.IN_FLIGHT;
    e.attempts++;
    e.poppedInCycle = ++cycle;
    return new Popped(e.key, e.poppedInCycle, e.attempts);
  }

  /** The pod was scheduled (or needs no scheduling): forget it. */
  public synchronized void done(String key) {
    Entry e = entries.get(key);
    if (e != null && e.where == Where.IN_FLIGHT) {
      entries.remove(key);
    }
  }

  /**
   * The popped pod fits no node: it waits for a cluster event — or, if one came while it was in
   * flight, only for its backoff. Returns its backoff.
   */
  public synchronized Duration unschedulable(Popped p) {
    Entry e = entries.get(p.key());
    if (e == null || e.where != Where.IN_FLIGHT) {
      return Duration.ZERO;
    }
    Duration d = backoffOf(e);
    if (moveRequestCycle >= p.cycle()) {
      toBackoff(e);
    } else {
      e.where = Where.UNSCHEDULABLE;
      e.unschedulableSince = nanoClock.getAsLong();
      e.backoffUntil = e.unschedulableSince + d.toNanos();
    }
    return d;
  }

  /** The popped pod failed for another reason (binding refused, API error): retry after backoff. */
  public synchronized Duration backoff(Popped p) {
    Entry e = entries.get(p.key());
    if (e == null || e.where != Where.IN_FLIGHT) {
      return Duration.ZERO;
    }
    toBackoff(e);
    return backoffOf(e);
  }

  /** Sizes for logs and tests: active, backoff, unschedulable, in flight. */
  public synchronized int[] sizes() {
    int[] n = new int[4];
    for (Entry e : entries.values()) {
      n[e.where.ordinal()]++;
    }
    return n;
  }

  /** Whether the key waits as unschedulable. */
  public synchronized boolean isUnschedulable(String key) {
    Entry e = entries.get(key);
    return e != null && e.where == Where.UNSCHEDULABLE;
  }

  public synchronized boolean contains(String key) {
    return entries.containsKey(key);
  }

  @Override
  public synchronized void close() {
    closed = true;
    notifyAll();
  }

  private Duration backoffOf(Entry e) {
    long d = initialBackoff.toNanos();
    for (int i = 1; i < e.attempts && d < maxBackoff.toNanos(); i++) {
      d *= 2;
    }
    return Duration.ofNanos(Math.min(d, maxBackoff.toNanos()));
  }

  private void requeue(Entry e) {
    if (nanoClock.getAsLong() < e.backoffUntil) {
      backoff.add(e);
      e.where = Where.BACKOFF;
    } else {
      toActive(e);
    }
  }

  private void toBackoff(Entry e) {
    e.backoffUntil = nanoClock.getAsLong() + backoffOf(e).toNanos();
    e.where = Where.BACKOFF;
    backoff.add(e);
    notifyAll();
  }

  private void toActive(Entry e) {
    e.seq = seq++;
    e.where = Where.ACTIVE;
    active.add(e);
    notifyAll();
  }

  private void flush(long now) {
    while (!backoff.isEmpty() && backoff.peek().backoffUntil <= now) {
      toActive(backoff.poll());
    }
    long limit = maxInUnschedulable.toNanos();
    if (now - lastStaleScan < Math.min(limit, STALE_SCAN_NANOS)) {
      return;
    }
    lastStaleScan = now;
    List<Entry> stale = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (e.where == Where.UNSCHEDULABLE && now - e.unschedulableSince >= limit) {
        stale.add(e);
      }
    }
    stale.forEach(this::requeue);
  }
}

package dev.kubelite.client.workqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.awaitility.Awaitility.with;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReconcileLoopTest {
  @Test
  void failingKeyIsRetriedWithBackoffAndOthersGoOn() {
    AtomicInteger attempts = new AtomicInteger();
    List<String> done = new CopyOnWriteArrayList<>();
    WorkQueue<String> q =
        new WorkQueue<>("t", Duration.ofMillis(1), Duration.ofMillis(20), WorkQueue.Clock.SYSTEM);
    try (ReconcileLoop loop =
        new ReconcileLoop(
            "t",
            2,
            key -> {
              if (key.equals("bad") && attempts.incrementAndGet() < 4) {
                throw new IllegalStateException("not yet");
              }
              done.add(key);
            },
            q)) {
      loop.start();
      loop.enqueue("bad");
      loop.enqueue("good");
      await().atMost(Duration.ofSeconds(10)).until(() -> done.containsAll(List.of("bad", "good")));
      assertThat(attempts.get()).isEqualTo(4);
      await().atMost(Duration.ofSeconds(10)).until(() -> q.numRequeues("bad") == 0);
    }
  }

  @Test
  void aConflictIsRetriedLikeAnyFailure() {
    AtomicInteger attempts = new AtomicInteger();
    WorkQueue<String> q =
        new WorkQueue<>("t", Duration.ofMillis(1), Duration.ofMillis(20), WorkQueue.Clock.SYSTEM);
    try (ReconcileLoop loop =
        new ReconcileLoop(
            "conflicts",
            1,
            key -> {
              if (attempts.incrementAndGet() < 3) {
                throw new dev.kubelite.client.ApiException(
                    409, "Conflict", "the object has been modified", null);
              }
            },
            q)) {
      loop.start();
      loop.enqueue("k");
      await().atMost(Duration.ofSeconds(10)).until(() -> attempts.get() == 3);
      await().atMost(Duration.ofSeconds(10)).until(() -> q.numRequeues("k") == 0);
    }
  }

  @Test
  void aKeyIsNeverReconciledConcurrently() {
    ConcurrentHashMap<String, Boolean> busy = new ConcurrentHashMap<>();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger runs = new AtomicInteger();
    try (ReconcileLoop loop =
        new ReconcileLoop(
            "c",
            4,
            key -> {
              if (busy.putIfAbsent(key, true) != null) {
                overlaps.incrementAndGet();
              }
              Thread.onSpinWait();
              busy.remove(key);
              runs.incrementAndGet();
            })) {
      loop.start();
      for (int i = 0; i < 2000; i++) {
        loop.enqueue("k" + (i % 3));
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> loop.queue().len() == 0 && runs.get() >= 3);
    }
    assertThat(overlaps.get()).isZero();
  }

  @Test
  void keysEnqueuedBeforeTheCachesSyncAreReconciledAfterNoneBefore() {
    AtomicBoolean cachesSynced = new AtomicBoolean();
    AtomicInteger asked = new AtomicInteger();
    List<String> done = new CopyOnWriteArrayList<>();
    List<Boolean> syncedWhenReconciled = new CopyOnWriteArrayList<>();
    try (ReconcileLoop loop =
        new ReconcileLoop(
            "gated",
            3,
            key -> {
              syncedWhenReconciled.add(cachesSynced.get());
              done.add(key);
            })) {
      loop.enqueue("a");
      loop.start(
          () -> {
            asked.incrementAndGet();
            return cachesSynced.get();
          });
      loop.enqueue("b");
      loop.enqueue("a"); // deduplicated while waiting, as always
      loop.enqueue("c");
      // The workers run and ask (more than once) but take nothing.
      with()
          .pollInterval(Duration.ofMillis(50))
          .await()
          .during(Duration.ofMillis(600))
          .atMost(Duration.ofSeconds(5))
          .until(() -> done.isEmpty() && loop.queue().len() == 3 && !loop.cachesSynced());
      assertThat(asked.get()).isGreaterThan(1);

      cachesSynced.set(true);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> done.size() == 3 && loop.queue().len() == 0);
      assertThat(done).containsExactlyInAnyOrder("a", "b", "c");
      assertThat(syncedWhenReconciled).containsOnly(true);
      assertThat(loop.cachesSynced()).isTrue();
      int askedAtSync = asked.get();

      // Once synced, the condition is not asked again and keys go straight through.
      loop.enqueue("d");
      await().atMost(Duration.ofSeconds(10)).until(() -> done.contains("d"));
      assertThat(asked.get()).isEqualTo(askedAtSync);
    }
  }

  @Test
  void closeStopsWorkersThatAreStillWaitingForTheCaches() {
    List<String> done = new CopyOnWriteArrayList<>();
    ReconcileLoop loop = new ReconcileLoop("never-synced", 2, done::add);
    loop.enqueue("k");
    loop.start(() -> false);
    long t0 = System.nanoTime();
    loop.close();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    assertThat(done).isEmpty();
  }
}

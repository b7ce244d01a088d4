package dev.kubelite.client.workqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
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
}

package dev.kubelite.client.workqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The work queue's semantics, driven by a test clock (no sleeps). */
class WorkQueueTest {
  static final class TestClock implements WorkQueue.Clock {
    final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Override
    public long nanoTime() {
      return now.get();
    }

    void advance(Duration d) {
      now.addAndGet(d.toNanos());
    }
  }

  private final TestClock clock = new TestClock();
  private final WorkQueue<String> q =
      new WorkQueue<>("test", Duration.ofMillis(5), Duration.ofSeconds(1), clock);

  @Test
  void duplicatesBeforeProcessingAreHandedOutOnce() {
    q.add("a");
    q.add("b");
    q.add("a");
    q.add("a");
    assertThat(q.len()).isEqualTo(2);
    assertThat(q.poll()).isEqualTo("a");
    assertThat(q.poll()).isEqualTo("b");
    assertThat(q.poll()).isNull();
  }

  @Test
  void aKeyAddedWhileProcessedIsHandedOutAgainOnlyAfterDone() {
    q.add("a");
    assertThat(q.poll()).isEqualTo("a");
    q.add("a");
    q.add("a");
    // Not handed out to a second worker while the first one holds it.
    assertThat(q.poll()).isNull();
    assertThat(q.len()).isZero();
    q.done("a");
    assertThat(q.poll()).isEqualTo("a");
    q.done("a");
    assertThat(q.poll()).isNull();
  }

  @Test
  void retriesBackOffExponentiallyPerKeyUntilForgotten() {
    List<Duration> delays = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      delays.add(q.addRateLimited("a"));
    }
    assertThat(delays.subList(0, 5))
        .containsExactly(
            Duration.ofMillis(5),
            Duration.ofMillis(10),
            Duration.ofMillis(20),
            Duration.ofMillis(40),
            Duration.ofMillis(80));
    assertThat(delays.get(9)).isEqualTo(Duration.ofSeconds(1)); // capped
    assertThat(q.numRequeues("a")).isEqualTo(10);
    // Another key has its own count.
    assertThat(q.addRateLimited("b")).isEqualTo(Duration.ofMillis(5));

    // "a" waits with its earliest time (5 ms); "b" too.
    assertThat(q.poll()).isNull();
    clock.advance(Duration.ofMillis(4));
    assertThat(q.poll()).isNull();
    clock.advance(Duration.ofMillis(1));
    assertThat(q.poll()).isEqualTo("a");
    assertThat(q.poll()).isEqualTo("b");
    q.done("a");
    q.forget("a");
    assertThat(q.numRequeues("a")).isZero();
    assertThat(q.addRateLimited("a")).isEqualTo(Duration.ofMillis(5));
  }

  @Test
  void delayedAddsBecomeReadyInTimeOrderAndDeDuplicate() {
    q.addAfter("late", Duration.ofSeconds(2));
    q.addAfter("early", Duration.ofSeconds(1));
    q.addAfter("late", Duration.ofSeconds(3)); // keeps the earlier time
    assertThat(q.waitingCount()).isEqualTo(2);
    clock.advance(Duration.ofSeconds(1));
    assertThat(q.poll()).isEqualTo("early");
    assertThat(q.poll()).isNull();
    clock.advance(Duration.ofSeconds(1));
    assertThat(q.poll()).isEqualTo("late");
    clock.advance(Duration.ofSeconds(5));
    assertThat(q.poll()).isNull();
    // A delayed key that is already queued is handed out once.
    q.add("x");
    q.addAfter("x", Duration.ofMillis(1));
    clock.advance(Duration.ofMillis(1));
    assertThat(q.poll()).isEqualTo("x");
    assertThat(q.poll()).isNull();
  }

  @Test
  void shutdownDrainsThenReturnsNullAndIgnoresAdds() throws Exception {
    q.add("a");
    q.addAfter("later", Duration.ofSeconds(1));
    q.shutdown();
    q.add("b");
    assertThat(q.get()).isEqualTo("a");
    assertThat(q.get()).isNull();
    assertThat(q.isShuttingDown()).isTrue();
  }

  @Test
  void workersNeverProcessAKeyConcurrently() throws Exception {
    WorkQueue<String> real = new WorkQueue<>("real");
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    AtomicInteger processed = new AtomicInteger();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    List<Thread> workers = new java.util.ArrayList<>();
    for (int w = 0; w < 4; w++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  String k;
                  while ((k = real.get()) != null) {
                    maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                    Thread.onSpinWait();
                    inFlight.decrementAndGet();
                    processed.incrementAndGet();
                    real.done(k);
                  }
                } catch (Throwable e) {
                  errors.add(e);
                }
              });
      t.start();
      workers.add(t);
    }
    for (int i = 0; i < 20_000; i++) {
      real.add("only-key");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> real.len() == 0);
    real.shutdown();
    for (Thread t : workers) {
      t.join(10_000);
    }
    assertThat(errors).isEmpty();
    assertThat(maxInFlight.get()).isEqualTo(1);
    assertThat(processed.get()).isBetween(1, 20_000);
  }

  @Test
  void blockedGetWakesForADelayedItemOnTheRealClock() throws Exception {
    WorkQueue<String> real = new WorkQueue<>("real");
    real.addAfter("soon", Duration.ofMillis(50));
    assertThat(real.get()).isEqualTo("soon");
    real.shutdown();
  }
}

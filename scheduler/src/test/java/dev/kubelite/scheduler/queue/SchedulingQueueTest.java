package dev.kubelite.scheduler.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The queue on a test clock: no sleeps. */
class SchedulingQueueTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final SchedulingQueue q =
      new SchedulingQueue(
          Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(5), now::get);

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void activePodsComeOutByPriorityThenAge() {
    q.add("a", 0);
    q.add("b", 10);
    q.add("c", 0);
    q.add("a", 0); // duplicate: ignored
    assertThat(q.poll().key()).isEqualTo("b");
    assertThat(q.poll().key()).isEqualTo("a");
    assertThat(q.poll().key()).isEqualTo("c");
    assertThat(q.poll()).isNull();
  }

  @Test
  void unschedulablePodsWaitForAClusterEventThenTheirBackoff() {
    q.add("p", 0);
    SchedulingQueue.Popped first = q.poll();
    assertThat(first.attempts()).isEqualTo(1);
    assertThat(q.unschedulable(first)).isEqualTo(Duration.ofSeconds(1));
    assertThat(q.isUnschedulable("p")).isTrue();
    advance(Duration.ofSeconds(30));
    assertThat(q.poll()).isNull(); // no event: it keeps waiting
    q.moveAllToActiveOrBackoff();
    SchedulingQueue.Popped second = q.poll();
    assertThat(second.key()).isEqualTo("p");
    assertThat(second.attempts()).isEqualTo(2);
    // Backoff doubles per attempt; an event within the backoff only moves it to backoff.
    assertThat(q.unschedulable(second)).isEqualTo(Duration.ofSeconds(2));
    q.moveAllToActiveOrBackoff();
    assertThat(q.poll()).isNull();
    assertThat(q.sizes()[1]).isEqualTo(1);
    advance(Duration.ofMillis(1999));
    assertThat(q.poll()).isNull();
    advance(Duration.ofMillis(1));
    assertThat(q.poll().attempts()).isEqualTo(3);
  }

  @Test
  void backoffIsCappedAndUnschedulablePodsAreRetriedAfterFiveMinutes() {
    q.add("p", 0);
    Duration last = null;
    for (int i = 0; i < 8; i++) {
      SchedulingQueue.Popped p = q.poll();
      assertThat(p).isNotNull();
      last = q.backoff(p);
      advance(last);
    }
    assertThat(last).isEqualTo(Duration.ofSeconds(10));
    SchedulingQueue.Popped p = q.poll();
    q.unschedulable(p);
    advance(Duration.ofMinutes(4));
    assertThat(q.poll()).isNull();
    advance(Duration.ofMinutes(1));
    assertThat(q.poll().key()).isEqualTo("p");
  }

  @Test
  void anEventDuringTheCycleSendsTheFailedPodToBackoffNotToWait() {
    q.add("p", 0);
    SchedulingQueue.Popped p = q.poll();
    q.moveAllToActiveOrBackoff(); // e.g. a node was added while "p" was being scheduled
    q.unschedulable(p);
    assertThat(q.isUnschedulable("p")).isFalse();
    advance(Duration.ofSeconds(1));
    assertThat(q.poll().key()).isEqualTo("p");
  }

  @Test
  void updatesDeletesAndDone() {
    q.add("p", 0);
    SchedulingQueue.Popped p = q.poll();
    q.unschedulable(p);
    q.update("p", 0, false); // status-only change: keeps waiting
    assertThat(q.isUnschedulable("p")).isTrue();
    advance(Duration.ofSeconds(1));
    q.update("p", 0, true); // spec/labels changed: tried again
    assertThat(q.poll().key()).isEqualTo("p");
    q.done("p");
    assertThat(q.contains("p")).isFalse();
    q.add("x", 0);
    q.delete("x");
    assertThat(q.poll()).isNull();
    q.update("y", 0, false); // unknown: added
    assertThat(q.poll().key()).isEqualTo("y");
    // A pod deleted while in flight is not brought back by the failure.
    q.delete("y");
    assertThat(q.unschedulable(new SchedulingQueue.Popped("y", 99, 1))).isEqualTo(Duration.ZERO);
    assertThat(q.contains("y")).isFalse();
  }

  @Test
  void popBlocksUntilAPodArrivesAndReturnsNullOnClose() throws Exception {
    SchedulingQueue real = new SchedulingQueue();
    Thread t = new Thread(() -> real.add("late", 0));
    t.start();
    assertThat(real.pop().key()).isEqualTo("late");
    real.close();
    assertThat(real.pop()).isNull();
    t.join();
  }
}

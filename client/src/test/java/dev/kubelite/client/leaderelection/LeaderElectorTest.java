package dev.kubelite.client.leaderelection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two candidates on one Lease of the real API server. */
class LeaderElectorTest {
  private Cluster cluster;
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final AtomicInteger leaders = new AtomicInteger();
  private final AtomicInteger maxLeaders = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    cluster = new Cluster();
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private LeaderElector candidate(String id, Duration lease, boolean release) {
    LeaderElector.Config cfg =
        new LeaderElector.Config(
            "kube-system",
            "test-controller",
            id,
            lease,
            lease.multipliedBy(3).dividedBy(4),
            Duration.ofMillis(200),
            release);
    return new LeaderElector(
        cluster.client(),
        cfg,
        new LeaderElector.Callbacks() {
          @Override
          public void onStartedLeading() {
            maxLeaders.accumulateAndGet(leaders.incrementAndGet(), Math::max);
            log.add(id + " started");
          }

          @Override
          public void onStoppedLeading() {
            leaders.decrementAndGet();
            log.add(id + " stopped");
          }
        });
  }

  private ObjectNode lease() {
    return (ObjectNode)
        cluster.client().get(Resource.LEASES, "kube-system", "test-controller").path("spec");
  }

  @Test
  void oneLeadsAndTheOtherTakesOverWhenItReleases() throws Exception {
    LeaderElector a = candidate("a", Duration.ofSeconds(10), true);
    LeaderElector b = candidate("b", Duration.ofSeconds(10), true);
    a.start();
    await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
    b.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> "a".equals(b.observedLeader()));
    assertThat(b.isLeader()).isFalse();
    ObjectNode first = lease();
    assertThat(first.path("holderIdentity").asText()).isEqualTo("a");
    assertThat(first.path("leaseDurationSeconds").asInt()).isEqualTo(10);
    assertThat(first.path("leaseTransitions").asInt()).isZero();
    // It renews: renewTime moves, acquireTime does not.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !lease().path("renewTime").equals(first.path("renewTime")));
    assertThat(lease().path("acquireTime")).isEqualTo(first.path("acquireTime"));

    long stoppedAt = System.nanoTime();
    a.close();
    await().atMost(Duration.ofSeconds(10)).until(b::isLeader);
    // Released, so b did not wait for the 10 s lease to expire.
    assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt)).isLessThan(Duration.ofSeconds(10));
    ObjectNode second = lease();
    assertThat(second.path("holderIdentity").asText()).isEqualTo("b");
    assertThat(second.path("leaseTransitions").asInt()).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(log).containsExactly("a started", "a stopped", "b started"));
    assertThat(maxLeaders.get()).isEqualTo(1);
    b.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> log.contains("b stopped"));
    assertThat(lease().path("holderIdentity").asText()).isEmpty();
  }

  @Test
  void aLeaderThatStopsRenewingIsTakenOverAfterTheLeaseDuration() throws Exception {
    Duration leaseDuration = Duration.ofSeconds(2);
    // a "crashes": it stops without releasing the lease.
    LeaderElector a = candidate("a", leaseDuration, false);
    LeaderElector b = candidate("b", leaseDuration, true);
    a.start();
    await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
    b.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> "a".equals(b.observedLeader()));
    Instant acquiredByA = Instant.parse(lease().path("acquireTime").asText());

    a.close();
    ObjectNode lastByA = lease();
    assertThat(lastByA.path("holderIdentity").asText()).isEqualTo("a");
    Instant lastRenewal = Instant.parse(lastByA.path("renewTime").asText());
    await().atMost(Duration.ofSeconds(15)).until(b::isLeader);
    ObjectNode taken = lease();
    // b waited a full lease duration after it last saw a's record change (same machine clock).
    assertThat(Instant.parse(taken.path("acquireTime").asText()))
        .isAfterOrEqualTo(lastRenewal.plus(leaseDuration));
    assertThat(taken.path("holderIdentity").asText()).isEqualTo("b");
    assertThat(taken.path("leaseTransitions").asInt()).isEqualTo(1);
    assertThat(Instant.parse(taken.path("acquireTime").asText())).isAfter(acquiredByA);
    assertThat(maxLeaders.get()).isEqualTo(1);
    b.close();
  }

  @Test
  void manyCandidatesOneLeader() throws Exception {
    List<LeaderElector> all = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      all.add(candidate("c" + i, Duration.ofSeconds(5), true));
    }
    all.forEach(LeaderElector::start);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> all.stream().filter(LeaderElector::isLeader).count() == 1);
    // Stop leaders one after the other: each time exactly one of the rest takes over.
    for (int round = 0; round < 3; round++) {
      LeaderElector leader = all.stream().filter(LeaderElector::isLeader).findFirst().orElseThrow();
      leader.close();
      all.remove(leader);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> all.stream().filter(LeaderElector::isLeader).count() == 1);
    }
    assertThat(maxLeaders.get()).isEqualTo(1);
    assertThat(lease().path("leaseTransitions").asInt()).isEqualTo(3);
    all.forEach(LeaderElector::close);
  }
}

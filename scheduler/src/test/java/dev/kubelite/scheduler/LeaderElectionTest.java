package dev.kubelite.scheduler;

import static dev.kubelite.scheduler.Fixtures.DEADLINE;
import static dev.kubelite.scheduler.Fixtures.awaitBound;
import static dev.kubelite.scheduler.Fixtures.node;
import static dev.kubelite.scheduler.Fixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.leaderelection.LeaderElector;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Two schedulers on one cluster: only the holder of kube-system/kube-scheduler binds. */
class LeaderElectionTest {

  private static Scheduler scheduler(Cluster cluster, String identity) {
    LeaderElector.Config election =
        new LeaderElector.Config(
            "kube-system",
            "kube-scheduler",
            identity,
            Duration.ofSeconds(4),
            Duration.ofSeconds(3),
            Duration.ofMillis(300),
            true);
    Scheduler s =
        new Scheduler(
            cluster.client(),
            Scheduler.Options.defaults()
                .withLeaderElection(election)
                .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)));
    s.start();
    return s;
  }

  @Test
  void onlyTheLeaderBindsAndTheOtherTakesOverWhenItStops() throws Exception {
    try (Cluster cluster = new Cluster()) {
      KubeClient c = cluster.client();
      node(c, "node-1", "4", "8Gi");
      node(c, "node-2", "4", "8Gi");
      Scheduler a = scheduler(cluster, "sched-a");
      Scheduler b = scheduler(cluster, "sched-b");
      try {
        await().atMost(DEADLINE).until(() -> a.isActive() || b.isActive());
        Scheduler leader = a.isActive() ? a : b;
        Scheduler follower = leader == a ? b : a;
        String leaderId = leader == a ? "sched-a" : "sched-b";
        assertThat(
                c.get(Resource.LEASES, "kube-system", "kube-scheduler")
                    .path("spec")
                    .path("holderIdentity")
                    .asText())
            .isEqualTo(leaderId);
        for (int i = 0; i < 6; i++) {
          pod(c, "first-" + i, "100m", "64Mi");
        }
        for (int i = 0; i < 6; i++) {
          awaitBound(c, "first-" + i);
        }
        assertThat(leader.bindings()).isEqualTo(6);
        assertThat(follower.bindings()).isZero();
        assertThat(follower.isActive()).isFalse();

        // The leader stops and releases the Lease: the other one takes over and schedules.
        leader.close();
        await().atMost(DEADLINE).until(follower::isActive);
        for (int i = 0; i < 4; i++) {
          pod(c, "second-" + i, "100m", "64Mi");
        }
        for (int i = 0; i < 4; i++) {
          awaitBound(c, "second-" + i);
        }
        assertThat(follower.bindings()).isEqualTo(4);
        assertThat(leader.bindings()).isEqualTo(6);
        // The follower's cache counted the leader's bindings: 10 pods on the two nodes.
        assertThat(follower.cache().snapshot().stream().mapToInt(n -> n.podCount()).sum())
            .isEqualTo(10);
      } finally {
        a.close();
        b.close();
      }
    }
  }
}

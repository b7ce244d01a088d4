package dev.kubelite.scheduler;

import static dev.kubelite.scheduler.Fixtures.DEADLINE;
import static dev.kubelite.scheduler.Fixtures.awaitBound;
import static dev.kubelite.scheduler.Fixtures.awaitEvent;
import static dev.kubelite.scheduler.Fixtures.node;
import static dev.kubelite.scheduler.Fixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.leaderelection.LeaderElector;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The scheduler as {@code system:kube-scheduler} through an API server with Node,RBAC
 * authorization: the bootstrap role is enough for leader election, watching, binding and events,
 * and no more.
 */
class RbacSchedulerTest {
  @Test
  void schedulesWithItsOwnIdentityAndNothingMore() throws Exception {
    try (Cluster cluster = Cluster.secured()) {
      KubeClient admin = cluster.client("admin");
      KubeClient own = cluster.client("scheduler");
      node(admin, "node-1", "2", "4Gi");
      Scheduler s =
          new Scheduler(
              own,
              Scheduler.Options.defaults()
                  .withLeaderElection(
                      new LeaderElector.Config(
                          "kube-system",
                          "kube-scheduler",
                          "sched-rbac",
                          Duration.ofSeconds(4),
                          Duration.ofSeconds(3),
                          Duration.ofMillis(300),
                          true))
                  .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)));
      s.start();
      try {
        await().atMost(DEADLINE).until(s::isActive);
        pod(admin, "web-1", "500m", "256Mi");
        assertThat(awaitBound(admin, "web-1")).isEqualTo("node-1");
        assertThat(awaitEvent(admin, "web-1", "Scheduled"))
            .isEqualTo("Successfully assigned default/web-1 to node-1");
      } finally {
        s.close();
      }
      ObjectNode deployment = KubeClient.JSON.createObjectNode();
      deployment.put("apiVersion", "apps/v1").put("kind", "Deployment");
      deployment.putObject("metadata").put("name", "nope");
      assertThatThrownBy(() -> own.create(Resource.DEPLOYMENTS, "default", deployment))
          .isInstanceOfSatisfying(
              ApiException.class,
              e ->
                  assertThat(e.getMessage())
                      .contains(
                          "deployments.apps is forbidden: User \"system:kube-scheduler\" cannot"
                              + " create resource \"deployments\" in API group \"apps\" in the"
                              + " namespace \"default\""));
    }
  }
}

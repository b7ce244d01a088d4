package dev.kubelite.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A one-node kubelet as {@code system:node:rbac-1} (group system:nodes) through an API server with
 * Node,RBAC authorization: it registers its Node, renews its Lease, runs and deletes the pods bound
 * to it, and cannot read another node's pods.
 */
class RbacKubeletTest {
  static ObjectNode pod(KubeClient admin, String name, String node) {
    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", name);
    ObjectNode spec = pod.putObject("spec");
    spec.put("nodeName", node);
    spec.putArray("containers").addObject().put("name", "app").put("image", "nginx:1.27");
    return admin.create(Resource.PODS, "default", pod);
  }

  @Test
  void aKubeletRunsItsOwnPodsOnly() throws Exception {
    try (Cluster cluster = Cluster.secured()) {
      KubeClient admin = cluster.client("admin");
      KubeClient own = cluster.client("node:rbac-1");
      KubeletConfig config =
          KubeletConfig.builder()
              .nodePrefix("rbac")
              .nodes(1)
              .leaseRenewInterval(Duration.ofMillis(300))
              .statusReportInterval(Duration.ofSeconds(1))
              .podStartupDelay(Duration.ofMillis(300))
              .maxGracePeriod(Duration.ofSeconds(1))
              .build();
      pod(admin, "mine", "rbac-1");
      pod(admin, "theirs", "rbac-2");
      try (Kubelet k = new Kubelet(own, config).start()) {
        await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    admin
                        .get(Resource.PODS, "default", "mine")
                        .path("status")
                        .path("phase")
                        .asText()
                        .equals("Running"));
        assertThat(admin.get(Resource.LEASES, "kube-node-lease", "rbac-1").path("spec"))
            .isNotNull();
        assertThat(
                admin.get(Resource.PODS, "default", "theirs").path("status").path("phase").asText())
            .isEqualTo("Pending");
        assertThatThrownBy(() -> own.get(Resource.PODS, "default", "theirs"))
            .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(403));
        assertThatThrownBy(() -> own.list(Resource.PODS, null, ListOptions.NONE))
            .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(403));
        // Graceful deletion: the kubelet stops the pod and deletes it for good.
        admin.delete(Resource.PODS, "default", "mine");
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () -> {
                  try {
                    admin.get(Resource.PODS, "default", "mine");
                    return false;
                  } catch (ApiException e) {
                    return e.isNotFound();
                  }
                });
      }
    }
  }

  @Test
  void aKubeletOfSeveralNodesRunsWithTheSimulatedNodesGroup() throws Exception {
    try (Cluster cluster = Cluster.secured()) {
      KubeClient admin = cluster.client("admin");
      KubeletConfig config =
          KubeletConfig.builder()
              .nodePrefix("sim")
              .nodes(2)
              .leaseRenewInterval(Duration.ofMillis(300))
              .statusReportInterval(Duration.ofSeconds(1))
              .podStartupDelay(Duration.ofMillis(300))
              .maxGracePeriod(Duration.ofSeconds(1))
              .build();
      pod(admin, "one", "sim-1");
      pod(admin, "two", "sim-2");
      try (Kubelet k = new Kubelet(cluster.client("simulated-nodes"), config).start()) {
        await().atMost(Duration.ofSeconds(20)).until(k::allRegistered);
        for (String p : new String[] {"one", "two"}) {
          await()
              .atMost(Duration.ofSeconds(20))
              .until(
                  () ->
                      admin
                          .get(Resource.PODS, "default", p)
                          .path("status")
                          .path("phase")
                          .asText()
                          .equals("Running"));
        }
      }
      // As a node of system:nodes, the same process could not list every bound pod.
      assertThatThrownBy(
              () ->
                  cluster
                      .client("node:sim-1")
                      .list(Resource.PODS, null, ListOptions.fields("spec.nodeName!=")))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(403));
    }
  }
}

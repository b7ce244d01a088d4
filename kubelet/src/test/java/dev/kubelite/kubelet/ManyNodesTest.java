package dev.kubelite.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** 200 nodes in one process: threads stay few, every node registers and heartbeats. */
class ManyNodesTest {
  @Test
  void workerThreadsGrowWithTheNodesUpToACap() {
    assertThat(KubeletConfig.builder().nodes(1).build().podWorkers()).isEqualTo(4);
    assertThat(KubeletConfig.builder().nodes(1).build().heartbeatWorkers()).isEqualTo(2);
    assertThat(KubeletConfig.builder().nodes(1000).build().podWorkers()).isEqualTo(31);
    assertThat(KubeletConfig.builder().nodes(1000).build().heartbeatWorkers()).isEqualTo(40);
    assertThat(KubeletConfig.builder().nodes(5000).build().podWorkers()).isEqualTo(32);
    assertThat(KubeletConfig.builder().nodes(5000).build().heartbeatWorkers()).isEqualTo(64);
    assertThat(KubeletConfig.builder().nodes(1000).podWorkers(3).build().podWorkers()).isEqualTo(3);
  }

  @Test
  void twoHundredNodesWithABoundedThreadCount() throws Exception {
    try (Cluster cluster = new Cluster()) {
      KubeClient c = cluster.client();
      int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
      KubeletConfig config =
          KubeletConfig.builder()
              .nodePrefix("many")
              .nodes(200)
              .leaseRenewInterval(Duration.ofSeconds(2))
              .statusReportInterval(Duration.ofSeconds(30))
              .podStartupDelay(Duration.ZERO)
              .build();
      try (Kubelet k = new Kubelet(c, config).start()) {
        await().atMost(Duration.ofSeconds(60)).until(k::allRegistered);
        assertThat(c.list(Resource.NODES, null, ListOptions.NONE).path("items").size())
            .isEqualTo(200);
        Map<String, String> firstRenew = new HashMap<>();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> {
                  for (JsonNode l :
                      c.list(Resource.LEASES, "kube-node-lease", ListOptions.NONE).path("items")) {
                    firstRenew.put(
                        l.path("metadata").path("name").asText(),
                        l.path("spec").path("renewTime").asText());
                  }
                  return firstRenew.size() == 200;
                });
        // Every lease is renewed again.
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> {
                  int moved = 0;
                  for (JsonNode l :
                      c.list(Resource.LEASES, "kube-node-lease", ListOptions.NONE).path("items")) {
                    String name = l.path("metadata").path("name").asText();
                    if (!l.path("spec").path("renewTime").asText().equals(firstRenew.get(name))) {
                      moved++;
                    }
                  }
                  return moved == 200;
                });
        // A pod on the last node runs: the one shared pod watch serves every node.
        ObjectNode pod = KubeClient.JSON.createObjectNode();
        pod.put("apiVersion", "v1").put("kind", "Pod");
        pod.putObject("metadata").put("name", "on-200");
        pod.putObject("spec")
            .put("nodeName", "many-200")
            .putArray("containers")
            .addObject()
            .put("name", "c")
            .put("image", "busybox");
        c.create(Resource.PODS, "default", pod);
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    c.get(Resource.PODS, "default", "on-200")
                        .path("status")
                        .path("phase")
                        .asText()
                        .equals("Running"));
        int threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
        System.err.println(
            "ManyNodesTest: 200 nodes added " + (threadsAfter - threadsBefore) + " threads");
        // Informer (3), pod workers, heartbeats, event writer (1), HTTP client internals: the
        // workers grow with the node count up to a cap, nothing else does. The JDK HTTP client's
        // worker pool grows with the calls in flight, i.e. with the workers, up to as many again.
        int workers = KubeletConfig.autoPodWorkers(200) + KubeletConfig.autoHeartbeatWorkers(200);
        assertThat(workers).isEqualTo(6 + 8);
        assertThat(threadsAfter - threadsBefore)
            .as("threads added by 200 simulated nodes")
            .isLessThan(24 + 2 * workers);
      }
    }
  }
}

package dev.kubelite.controller.nodelifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Node failure through the real API server with short periods: a node whose Lease stops being
 * renewed goes Unknown and is tainted, its pods are evicted after their tolerations, and a node
 * that comes back is untainted. The "kubelet" is the test, renewing a Lease and posting status.
 */
class NodeLifecycleControllerTest {
  static Cluster cluster;
  static KubeClient c;
  static NodeLifecycleController controller;
  static final Duration DEADLINE = Duration.ofSeconds(30);
  static final Resource EVENTS = Resource.EVENTS;
  static final DateTimeFormatter MICRO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
    controller =
        new NodeLifecycleController(
            c,
            new NodeLifecycleController.Options(
                Duration.ofMillis(100),
                Duration.ofMillis(2500),
                Duration.ofMillis(2500),
                Duration.ofSeconds(4),
                2));
    controller.start();
    await().atMost(DEADLINE).until(controller::hasSynced);
  }

  @AfterAll
  static void stop() {
    if (controller != null) {
      controller.close();
    }
    cluster.close();
  }

  /** A simulated kubelet: renews its node's Lease and reports the Ready status it is told to. */
  static final class FakeKubelet implements AutoCloseable {
    final String node;
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    volatile String ready = "True";
    volatile boolean running = true;

    FakeKubelet(String node) {
      this.node = node;
      ObjectNode n = KubeClient.JSON.createObjectNode();
      n.put("apiVersion", "v1").put("kind", "Node");
      n.putObject("metadata").put("name", node);
      c.create(Resource.NODES, null, n);
      ObjectNode lease = KubeClient.JSON.createObjectNode();
      lease.put("apiVersion", "coordination.k8s.io/v1").put("kind", "Lease");
      lease.putObject("metadata").put("name", node);
      lease.putObject("spec").put("holderIdentity", node).put("leaseDurationSeconds", 40);
      c.create(Resource.LEASES, NodeLifecycleController.LEASE_NAMESPACE, lease);
      timer.scheduleWithFixedDelay(this::beat, 0, 200, TimeUnit.MILLISECONDS);
    }

    private void beat() {
      if (!running) {
        return;
      }
      try {
        ObjectNode lease = c.get(Resource.LEASES, NodeLifecycleController.LEASE_NAMESPACE, node);
        ((ObjectNode) lease.get("spec")).put("renewTime", MICRO.format(Instant.now()));
        c.update(Resource.LEASES, lease);
        ObjectNode n = c.get(Resource.NODES, null, node);
        JsonNode cond = NodeLifecycleController.condition(n, "Ready");
        if (cond == null || !cond.path("status").asText().equals(ready)) {
          String now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
          ObjectNode status = n.putObject("status");
          ObjectNode r = status.putArray("conditions").addObject();
          r.put("type", "Ready").put("status", ready);
          r.put("lastHeartbeatTime", now).put("lastTransitionTime", now);
          r.put("reason", ready.equals("True") ? "KubeletReady" : "KubeletNotReady");
          r.put("message", "kubelet is posting ready status");
          c.updateStatus(Resource.NODES, n);
        }
      } catch (RuntimeException e) {
        // A conflict with the controller's write: the next beat tries again.
      }
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }

  static ObjectNode pod(String ns, String name, String node, String tolerationsJson)
      throws Exception {
    ObjectNode p =
        (ObjectNode)
            KubeClient.JSON.readTree(
                """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},
                 "spec":{"nodeName":"%s","terminationGracePeriodSeconds":0,
                  "containers":[{"name":"c","image":"x:1"}],"tolerations":%s}}"""
                    .formatted(name, node, tolerationsJson));
    ObjectNode created = c.create(Resource.PODS, ns, p);
    // Running and Ready, as a kubelet would report it.
    ObjectNode st = created.putObject("status");
    st.put("phase", "Running");
    st.putArray("conditions").addObject().put("type", "Ready").put("status", "True");
    return c.updateStatus(Resource.PODS, created);
  }

  static boolean gone(String ns, String name) {
    try {
      c.get(Resource.PODS, ns, name);
      return false;
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return true;
      }
      throw e;
    }
  }

  /** The node's Ready status, or "" while it has no Ready condition. */
  static String readyStatus(String node) {
    JsonNode ready = NodeLifecycleController.condition(c.get(Resource.NODES, null, node), "Ready");
    return ready == null ? "" : ready.path("status").asText();
  }

  static List<String> taints(String node) {
    List<String> out = new ArrayList<>();
    for (JsonNode t : c.get(Resource.NODES, null, node).path("spec").path("taints")) {
      out.add(t.path("key").asText() + ":" + t.path("effect").asText());
    }
    return out;
  }

  static List<String> eventReasons(String involvedName) {
    List<String> out = new ArrayList<>();
    for (JsonNode e :
        c.list(EVENTS, null, ListOptions.fields("involvedObject.name=" + involvedName))
            .path("items")) {
      out.add(e.path("reason").asText() + ": " + e.path("message").asText());
    }
    return out;
  }

  @Test
  void aNodeThatStopsHeartbeatingIsTaintedAndItsPodsEvictedAfterTheirTolerations()
      throws Exception {
    try (FakeKubelet kubelet = new FakeKubelet("node-a")) {
      await().atMost(DEADLINE).until(() -> "True".equals(readyStatus("node-a")));
      String ns = "default";
      pod(ns, "p-default", "node-a", "[]");
      pod(
          ns,
          "p-short",
          "node-a",
          "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
              + "\"effect\":\"NoExecute\",\"tolerationSeconds\":2}]");
      pod(ns, "p-forever", "node-a", "[{\"operator\":\"Exists\"}]");
      pod(
          ns,
          "p-long",
          "node-a",
          "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
              + "\"effect\":\"NoExecute\",\"tolerationSeconds\":3600}]");
      // Heartbeats keep the node untouched for longer than the grace period.
      await()
          .during(Duration.ofMillis(3000))
          .atMost(DEADLINE)
          .until(() -> taints("node-a").isEmpty());

      kubelet.running = false;
      await()
          .atMost(DEADLINE)
          .until(
              () ->
                  taints("node-a")
                      .containsAll(
                          List.of(
                              "node.kubernetes.io/unreachable:NoSchedule",
                              "node.kubernetes.io/unreachable:NoExecute")));
      JsonNode node = c.get(Resource.NODES, null, "node-a");
      JsonNode ready = NodeLifecycleController.condition(node, "Ready");
      assertThat(ready.path("status").asText()).isEqualTo("Unknown");
      assertThat(ready.path("reason").asText()).isEqualTo("NodeStatusUnknown");
      assertThat(ready.path("message").asText()).isEqualTo("Kubelet stopped posting node status.");
      JsonNode memory = NodeLifecycleController.condition(node, "MemoryPressure");
      assertThat(memory.path("reason").asText()).isEqualTo("NodeStatusNeverUpdated");
      // Nobody is evicted at once: the shortest toleration is 2 s.
      assertThat(gone(ns, "p-short")).isFalse();
      assertThat(gone(ns, "p-default")).isFalse();
      await()
          .atMost(DEADLINE)
          .untilAsserted(
              () ->
                  assertThat(
                          NodeLifecycleController.condition(
                                  c.get(Resource.PODS, ns, "p-long"), "Ready")
                              .path("status")
                              .asText())
                      .isEqualTo("False"));

      await().atMost(DEADLINE).until(() -> gone(ns, "p-short"));
      // The default toleration (4 s here, 300 s by default) is still running.
      assertThat(gone(ns, "p-default")).isFalse();
      await().atMost(DEADLINE).until(() -> gone(ns, "p-default"));
      assertThat(Meta.isBeingDeleted(c.get(Resource.PODS, ns, "p-long"))).isFalse();
      assertThat(Meta.isBeingDeleted(c.get(Resource.PODS, ns, "p-forever"))).isFalse();
      await()
          .atMost(DEADLINE)
          .untilAsserted(
              () -> {
                assertThat(eventReasons("node-a"))
                    .contains("NodeNotReady: Node node-a status is now: NodeNotReady");
                assertThat(eventReasons("p-short"))
                    .contains("TaintManagerEviction: Marking for deletion Pod default/p-short");
                assertThat(eventReasons("p-long")).contains("NodeNotReady: Node is not ready");
              });

      // The kubelet comes back: heartbeats and Ready → the taints go, the rest stay.
      kubelet.running = true;
      await().atMost(DEADLINE).until(() -> taints("node-a").isEmpty());
      assertThat(readyStatus("node-a")).isEqualTo("True");
      assertThat(Meta.isBeingDeleted(c.get(Resource.PODS, ns, "p-long"))).isFalse();
      assertThat(Meta.isBeingDeleted(c.get(Resource.PODS, ns, "p-forever"))).isFalse();
    }
  }

  @Test
  void aNodeReportingNotReadyGetsTheNotReadyTaintsAndANodeThatNeverReportedGoesUnknown() {
    try (FakeKubelet kubelet = new FakeKubelet("node-b")) {
      kubelet.ready = "False";
      await()
          .atMost(DEADLINE)
          .until(
              () ->
                  taints("node-b")
                      .equals(
                          List.of(
                              "node.kubernetes.io/not-ready:NoSchedule",
                              "node.kubernetes.io/not-ready:NoExecute")));
      assertThat(readyStatus("node-b")).isEqualTo("False");
      kubelet.ready = "True";
      await().atMost(DEADLINE).until(() -> taints("node-b").isEmpty());
    }
    // A node object with no kubelet behind it at all.
    ObjectNode n = KubeClient.JSON.createObjectNode();
    n.put("apiVersion", "v1").put("kind", "Node");
    n.putObject("metadata").put("name", "node-c");
    c.create(Resource.NODES, null, n);
    await()
        .atMost(DEADLINE)
        .until(() -> taints("node-c").contains("node.kubernetes.io/unreachable:NoExecute"));
    JsonNode ready =
        NodeLifecycleController.condition(c.get(Resource.NODES, null, "node-c"), "Ready");
    assertThat(ready.path("status").asText()).isEqualTo("Unknown");
    assertThat(ready.path("reason").asText()).isEqualTo("NodeStatusNeverUpdated");
    assertThat(ready.path("message").asText()).isEqualTo("Kubelet never posted node status.");
  }
}

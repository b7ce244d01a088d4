package dev.kubelite.client.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Events written through the real API server, found the way kubectl describe finds them. */
class EventRecorderTest {
  static Cluster cluster;
  static KubeClient c;

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static List<JsonNode> eventsAbout(String namespace, String kind, String name) {
    ObjectNode list =
        c.list(
            Resource.EVENTS,
            namespace,
            ListOptions.fields("involvedObject.kind=" + kind + ",involvedObject.name=" + name));
    List<JsonNode> out = new ArrayList<>();
    list.path("items").forEach(out::add);
    return out;
  }

  @Test
  void eventsBeyondTheQueueAreDroppedAndCountedWhileTheApiServerHangs() throws Exception {
    // An "API server" that accepts connections and never answers: the writer waits on its first
    // event, the next MAX_QUEUED wait in the queue, the rest are dropped instead of piling up.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      KubeClient hanging =
          new KubeClient(
              URI.create("http://127.0.0.1:" + silent.getLocalPort()),
              null,
              Duration.ofSeconds(60));
      ObjectNode pod = KubeClient.JSON.createObjectNode();
      pod.put("apiVersion", "v1").put("kind", "Pod");
      pod.putObject("metadata").put("name", "p").put("namespace", "default").put("uid", "u1");
      EventRecorder r = new EventRecorder(hanging, "test-hang", null);
      int extra = 25;
      for (int i = 0; i < 1 + EventRecorder.MAX_QUEUED + extra; i++) {
        r.normal(pod, "Tick", "tick " + i);
      }
      assertThat(r.droppedEvents()).isEqualTo(extra);
      r.close();
    }
  }

  @Test
  void aReplicaSetsManyCreatesBecomeOneCountedEventAndABurstIsCutShort() {
    ObjectNode rs = KubeClient.JSON.createObjectNode();
    rs.put("apiVersion", "apps/v1").put("kind", "ReplicaSet");
    rs.putObject("metadata").put("name", "burst").put("namespace", "default").put("uid", "rs-u1");
    EventRecorder r = new EventRecorder(c, "test-rs", null);
    for (int i = 0; i < 100; i++) {
      r.normal(rs, "SuccessfulCreate", "Created pod: burst-" + i);
    }
    r.close();
    List<JsonNode> events = eventsAbout("default", "ReplicaSet", "burst");
    // Nine events one by one, then one combined Event that counts the rest the filter let by:
    // 25 writes in all (9 + 1 create + 15 count updates), the other 75 events not written.
    assertThat(events).hasSize(10);
    JsonNode combined =
        events.stream()
            .filter(e -> e.path("message").asText().startsWith("(combined from similar events): "))
            .findFirst()
            .orElseThrow();
    assertThat(combined.path("count").asInt()).isEqualTo(16);
    assertThat(combined.path("message").asText())
        .isEqualTo("(combined from similar events): Created pod: burst-24");
    assertThat(r.spamFilteredEvents()).isEqualTo(75);
  }

  @Test
  void repeatedEventBumpsCountAndOthersAreSeparate() {
    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", "ev-pod");
    pod.putObject("spec").putArray("containers").addObject().put("name", "c").put("image", "i");
    ObjectNode created = c.create(Resource.PODS, "default", pod);

    try (EventRecorder r = new EventRecorder(c, "test-scheduler", null)) {
      r.warning(created, "FailedScheduling", "0/0 nodes are available.");
      r.warning(created, "FailedScheduling", "0/0 nodes are available.");
      r.normal(created, "Scheduled", "Successfully assigned default/ev-pod to n1");
    }

    List<JsonNode> events = eventsAbout("default", "Pod", "ev-pod");
    assertThat(events).hasSize(2);
    JsonNode failed =
        events.stream()
            .filter(e -> e.path("reason").asText().equals("FailedScheduling"))
            .findFirst()
            .orElseThrow();
    assertThat(failed.path("count").asInt()).isEqualTo(2);
    assertThat(failed.path("type").asText()).isEqualTo("Warning");
    assertThat(failed.path("source").path("component").asText()).isEqualTo("test-scheduler");
    assertThat(failed.path("involvedObject").path("uid").asText())
        .isEqualTo(created.path("metadata").path("uid").asText());
    assertThat(failed.path("metadata").path("name").asText()).startsWith("ev-pod.");
  }

  @Test
  void eventsAboutClusterScopedObjectsGoToDefault() {
    ObjectNode node = KubeClient.JSON.createObjectNode();
    node.put("apiVersion", "v1").put("kind", "Node");
    node.putObject("metadata").put("name", "ev-node");
    ObjectNode created = c.create(Resource.NODES, null, node);

    EventRecorder r = new EventRecorder(c, "kubelet", "ev-node");
    r.normal(created, "Starting", "Starting kubelet.");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> eventsAbout("default", "Node", "ev-node").size() == 1);
    r.close();
    JsonNode ev = eventsAbout("default", "Node", "ev-node").get(0);
    assertThat(ev.path("source").path("host").asText()).isEqualTo("ev-node");
    assertThat(ev.path("involvedObject").has("namespace")).isFalse();
  }

  @Test
  void recordersForOtherHostsShareOneWriterThread() {
    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", "ev-hosts");
    pod.putObject("spec").putArray("containers").addObject().put("name", "c").put("image", "i");
    ObjectNode created = c.create(Resource.PODS, "default", pod);

    long writersBefore = writerThreads();
    EventRecorder base = new EventRecorder(c, "kubelet", null);
    for (int i = 1; i <= 20; i++) {
      base.withHost("host-" + i).normal(created, "Started", "Started container c" + i);
    }
    assertThat(writerThreads() - writersBefore).isLessThanOrEqualTo(1);
    base.close();
    List<JsonNode> events = eventsAbout("default", "Pod", "ev-hosts");
    assertThat(events).hasSize(20);
    assertThat(events.stream().map(e -> e.path("source").path("host").asText()).distinct())
        .hasSize(20);
  }

  private static long writerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("events-kubelet") && t.isAlive())
        .count();
  }
}

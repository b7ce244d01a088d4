package dev.kubelite.scheduler;

import static dev.kubelite.scheduler.Fixtures.DEADLINE;
import static dev.kubelite.scheduler.Fixtures.awaitBound;
import static dev.kubelite.scheduler.Fixtures.awaitEvent;
import static dev.kubelite.scheduler.Fixtures.condition;
import static dev.kubelite.scheduler.Fixtures.label;
import static dev.kubelite.scheduler.Fixtures.node;
import static dev.kubelite.scheduler.Fixtures.nodeOf;
import static dev.kubelite.scheduler.Fixtures.pod;
import static dev.kubelite.scheduler.Fixtures.taint;
import static dev.kubelite.scheduler.Fixtures.toleration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.scheduler.framework.Quantity;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scheduler against a real API server over a real store: nodes and pods made by hand. */
class SchedulerTest {
  private Cluster cluster;
  private KubeClient c;
  private Scheduler scheduler;

  @BeforeEach
  void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
  }

  @AfterEach
  void stop() {
    if (scheduler != null) {
      scheduler.close();
    }
    cluster.close();
  }

  private Scheduler startScheduler() {
    Scheduler s =
        new Scheduler(
            cluster.client(),
            Scheduler.Options.defaults()
                .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)));
    s.start();
    return s;
  }

  @Test
  void bindsAPodAndRecordsTheScheduledEventAndCondition() {
    node(c, "node-1", "2", "4Gi");
    node(c, "node-2", "2", "4Gi");
    scheduler = startScheduler();
    pod(c, "web-1", "500m", "256Mi");

    String chosen = awaitBound(c, "web-1");
    assertThat(chosen).isIn("node-1", "node-2");
    assertThat(awaitEvent(c, "web-1", "Scheduled"))
        .isEqualTo("Successfully assigned default/web-1 to " + chosen);
    ObjectNode event =
        Fixtures.events(c, "web-1").stream()
            .filter(e -> e.path("reason").asText().equals("Scheduled"))
            .findFirst()
            .orElseThrow();
    assertThat(event.path("type").asText()).isEqualTo("Normal");
    assertThat(event.path("source").path("component").asText()).isEqualTo("default-scheduler");
    JsonNode conditions =
        c.get(Resource.PODS, "default", "web-1").path("status").path("conditions");
    assertThat(conditions.toString()).contains("\"type\":\"PodScheduled\",\"status\":\"True\"");
  }

  @Test
  void aPodTooBigForEveryNodeStaysPendingWithKubernetesMessage() {
    node(c, "node-1", "1", "4Gi");
    node(c, "node-2", "1", "4Gi");
    ObjectNode n3 =
        node(
            c,
            "node-3",
            "8",
            "16Gi",
            n -> {
              taint(n, "node.kubernetes.io/unreachable", null, "NoSchedule");
              condition(n, "Ready", "Unknown");
            });
    assertThat(n3.path("spec").path("taints")).hasSize(1);
    scheduler = startScheduler();
    pod(c, "big", "2", "1Gi");

    String message = awaitEvent(c, "big", "FailedScheduling");
    // kube-scheduler sorts the "count reason" strings as strings: "1 node(s)…" before "2
    // Insufficient…".
    assertThat(message)
        .isEqualTo(
            "0/3 nodes are available: 1 node(s) had untolerated taint"
                + " {node.kubernetes.io/unreachable: }, 2 Insufficient cpu.");
    await()
        .atMost(DEADLINE)
        .untilAsserted(
            () -> {
              JsonNode cond =
                  c.get(Resource.PODS, "default", "big").path("status").path("conditions");
              assertThat(cond.toString())
                  .contains("\"type\":\"PodScheduled\",\"status\":\"False\"")
                  .contains("\"reason\":\"Unschedulable\"")
                  .contains("Insufficient cpu");
            });
    // It waits for a cluster change; a node update brings it back (after its backoff): the same
    // event again is aggregated (count grows), and the pod stays pending.
    ObjectNode n1 = c.get(Resource.NODES, null, "node-1");
    label(n1, "touched", "yes");
    c.update(Resource.NODES, n1);
    await()
        .atMost(DEADLINE)
        .until(
            () -> Fixtures.events(c, "big").stream().anyMatch(e -> e.path("count").asInt() >= 2));
    assertThat(nodeOf(c, "big")).isEmpty();
    ObjectNode warning =
        Fixtures.events(c, "big").stream()
            .filter(e -> e.path("reason").asText().equals("FailedScheduling"))
            .findFirst()
            .orElseThrow();
    assertThat(warning.path("type").asText()).isEqualTo("Warning");
  }

  @Test
  void twentyPodsCreatedAtOnceNeverOvercommitANode() {
    node(c, "node-1", "1", "4Gi");
    node(c, "node-2", "1", "4Gi");
    node(c, "node-3", "1", "2Gi");
    scheduler = startScheduler();
    for (int i = 0; i < 20; i++) {
      pod(c, "p-" + i, "300m", "512Mi");
    }
    // 3 × 300m fit into 1 CPU: 9 pods run, 11 wait with a FailedScheduling event.
    await()
        .atMost(DEADLINE)
        .until(
            () -> {
              int bound = 0;
              int failed = 0;
              for (int i = 0; i < 20; i++) {
                if (!nodeOf(c, "p-" + i).isEmpty()) {
                  bound++;
                } else if (Fixtures.events(c, "p-" + i).stream()
                    .anyMatch(e -> e.path("reason").asText().equals("FailedScheduling"))) {
                  failed++;
                }
              }
              return bound == 9 && failed == 11;
            });
    Map<String, Long> cpuByNode = new HashMap<>();
    Map<String, Integer> podsByNode = new HashMap<>();
    for (JsonNode p :
        c.list(Resource.PODS, "default", dev.kubelite.client.ListOptions.NONE).path("items")) {
      String n = p.path("spec").path("nodeName").asText("");
      if (!n.isEmpty()) {
        long cpu =
            Quantity.milliValue(
                p.path("spec")
                    .path("containers")
                    .get(0)
                    .path("resources")
                    .path("requests")
                    .path("cpu")
                    .asText());
        cpuByNode.merge(n, cpu, Long::sum);
        podsByNode.merge(n, 1, Integer::sum);
      }
    }
    assertThat(podsByNode)
        .containsOnly(Map.entry("node-1", 3), Map.entry("node-2", 3), Map.entry("node-3", 3));
    assertThat(cpuByNode.values()).allMatch(v -> v <= 1000);
    assertThat(awaitEvent(c, pendingPod(), "FailedScheduling"))
        .isEqualTo("0/3 nodes are available: 3 Insufficient cpu.");
    assertThat(scheduler.cache().snapshot()).allMatch(n -> n.requested().milliCpu() <= 1000);
  }

  private String pendingPod() {
    for (int i = 0; i < 20; i++) {
      if (nodeOf(c, "p-" + i).isEmpty()) {
        return "p-" + i;
      }
    }
    throw new AssertionError("no pending pod");
  }

  @Test
  void taintsKeepPodsAwayUnlessTolerated() {
    node(c, "gpu-1", "4", "8Gi", n -> taint(n, "dedicated", "gpu", "NoSchedule"));
    node(c, "cordoned", "4", "8Gi", n -> ((ObjectNode) n.path("spec")).put("unschedulable", true));
    node(c, "draining", "4", "8Gi", n -> taint(n, "drain", null, "NoExecute"));
    scheduler = startScheduler();

    pod(c, "plain", "100m", null);
    assertThat(awaitEvent(c, "plain", "FailedScheduling"))
        .isEqualTo(
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1"
                + " node(s) had untolerated taint {drain: }, 1 node(s) were unschedulable.");

    pod(c, "equal", "100m", null, p -> toleration(p, "dedicated", "Equal", "gpu", "NoSchedule"));
    assertThat(awaitBound(c, "equal")).isEqualTo("gpu-1");

    pod(c, "wrong-value", "100m", null, p -> toleration(p, "dedicated", "Equal", "cpu", null));
    pod(c, "exists-key", "100m", null, p -> toleration(p, "drain", "Exists", null, "NoExecute"));
    assertThat(awaitBound(c, "exists-key")).isEqualTo("draining");
    assertThat(awaitEvent(c, "wrong-value", "FailedScheduling")).contains("{dedicated: gpu}");

    // An empty key with Exists tolerates every taint, even the cordon's.
    pod(c, "everything", "100m", null, p -> toleration(p, null, "Exists", null, null));
    assertThat(awaitBound(c, "everything")).isIn("gpu-1", "draining", "cordoned");
    pod(
        c,
        "cordon-ok",
        "100m",
        null,
        p -> {
          toleration(p, "node.kubernetes.io/unschedulable", "Exists", null, "NoSchedule");
          ((ObjectNode) p.path("spec"))
              .putObject("nodeSelector")
              .put("kubernetes.io/hostname", "cordoned");
        });
    assertThat(awaitBound(c, "cordon-ok")).isEqualTo("cordoned");
  }

  @Test
  void nodeSelectorAndRequiredNodeAffinity() {
    node(
        c,
        "a",
        "4",
        "8Gi",
        n -> {
          label(n, "disktype", "ssd");
          label(n, "zone", "z1");
          label(n, "cores", "4");
        });
    node(
        c,
        "b",
        "4",
        "8Gi",
        n -> {
          label(n, "disktype", "hdd");
          label(n, "zone", "z2");
          label(n, "cores", "16");
        });
    node(c, "c", "4", "8Gi", n -> label(n, "zone", "z3"));
    scheduler = startScheduler();

    pod(
        c,
        "ssd",
        "100m",
        null,
        p -> ((ObjectNode) p.path("spec")).putObject("nodeSelector").put("disktype", "ssd"));
    assertThat(awaitBound(c, "ssd")).isEqualTo("a");

    pod(c, "big-cores", "100m", null, p -> affinity(p, term(expr("cores", "Gt", "8"))));
    assertThat(awaitBound(c, "big-cores")).isEqualTo("b");

    pod(c, "few-cores", "100m", null, p -> affinity(p, term(expr("cores", "Lt", "8"))));
    assertThat(awaitBound(c, "few-cores")).isEqualTo("a");

    pod(c, "no-disk", "100m", null, p -> affinity(p, term(expr("disktype", "DoesNotExist"))));
    assertThat(awaitBound(c, "no-disk")).isEqualTo("c");

    // Terms are ORed, expressions within a term ANDed.
    pod(
        c,
        "z2-or-nothing",
        "100m",
        null,
        p ->
            affinity(
                p,
                term(expr("zone", "In", "z2", "z9"), expr("disktype", "Exists")),
                term(expr("zone", "In", "nowhere"))));
    assertThat(awaitBound(c, "z2-or-nothing")).isEqualTo("b");

    pod(c, "not-z1-z2", "100m", null, p -> affinity(p, term(expr("zone", "NotIn", "z1", "z2"))));
    assertThat(awaitBound(c, "not-z1-z2")).isEqualTo("c");

    pod(
        c,
        "nowhere",
        "100m",
        null,
        p -> {
          ((ObjectNode) p.path("spec")).putObject("nodeSelector").put("disktype", "ssd");
          affinity(p, term(expr("zone", "In", "z2")));
        });
    assertThat(awaitEvent(c, "nowhere", "FailedScheduling"))
        .isEqualTo("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
  }

  private static ObjectNode expr(String key, String op, String... values) {
    ObjectNode e = Fixtures.json().put("key", key).put("operator", op);
    if (values.length > 0) {
      ArrayNode v = e.putArray("values");
      for (String s : values) {
        v.add(s);
      }
    }
    return e;
  }

  private static ObjectNode term(ObjectNode... exprs) {
    ObjectNode t = Fixtures.json();
    ArrayNode a = t.putArray("matchExpressions");
    for (ObjectNode e : exprs) {
      a.add(e);
    }
    return t;
  }

  private static void affinity(ObjectNode pod, ObjectNode... terms) {
    ArrayNode t =
        ((ObjectNode) pod.path("spec"))
            .putObject("affinity")
            .putObject("nodeAffinity")
            .putObject("requiredDuringSchedulingIgnoredDuringExecution")
            .putArray("nodeSelectorTerms");
    for (ObjectNode term : terms) {
      t.add(term);
    }
  }

  @Test
  void spreadsThePodsOfOneOwnerOverTheNodes() {
    // Least-allocated alone would put every pod on the big node; spreading wins.
    node(c, "big", "16", "8Gi");
    node(c, "small-1", "2", "8Gi");
    node(c, "small-2", "2", "8Gi");
    scheduler = startScheduler();
    Consumer<ObjectNode> owned =
        p ->
            ((ObjectNode) p.path("metadata"))
                .putArray("ownerReferences")
                .addObject()
                .put("apiVersion", "apps/v1")
                .put("kind", "ReplicaSet")
                .put("name", "web-7c9f")
                .put("uid", "5b1e2c1a-0000-4000-8000-000000000001")
                .put("controller", true);
    Map<String, Integer> perNode = new HashMap<>();
    for (int i = 0; i < 6; i++) {
      pod(c, "web-" + i, "100m", "128Mi", owned);
      perNode.merge(awaitBound(c, "web-" + i), 1, Integer::sum);
    }
    assertThat(perNode)
        .containsOnly(Map.entry("big", 2), Map.entry("small-1", 2), Map.entry("small-2", 2));
    // A pod without an owner goes by resources: the big node.
    pod(c, "loner", "100m", "128Mi");
    assertThat(awaitBound(c, "loner")).isEqualTo("big");
  }

  @Test
  void aPendingPodIsScheduledWhenANodeIsAddedLater() {
    scheduler = startScheduler();
    pod(c, "early", "1", "1Gi");
    assertThat(awaitEvent(c, "early", "FailedScheduling"))
        .isEqualTo("no nodes available to schedule pods");
    node(c, "small", "500m", "4Gi");
    assertThat(awaitEvent(c, "early", "FailedScheduling"))
        .isIn(
            "no nodes available to schedule pods", "0/1 nodes are available: 1 Insufficient cpu.");
    await()
        .atMost(DEADLINE)
        .until(
            () ->
                Fixtures.events(c, "early").stream()
                    .anyMatch(
                        e ->
                            e.path("message")
                                .asText()
                                .equals("0/1 nodes are available: 1 Insufficient cpu.")));
    node(c, "large", "4", "8Gi");
    assertThat(awaitBound(c, "early")).isEqualTo("large");
  }

  @Test
  void aNodeThatBecomesReadyOrLargerIsUsed() {
    ObjectNode n = node(c, "n1", "1", "4Gi", x -> condition(x, "Ready", "False"));
    scheduler = startScheduler();
    pod(c, "waits", "2", "1Gi");
    assertThat(awaitEvent(c, "waits", "FailedScheduling"))
        .isEqualTo("0/1 nodes are available: 1 node(s) were not ready.");
    condition(n, "Ready", "True");
    n = c.updateStatus(Resource.NODES, n);
    await()
        .atMost(DEADLINE)
        .until(
            () ->
                Fixtures.events(c, "waits").stream()
                    .anyMatch(
                        e ->
                            e.path("message")
                                .asText()
                                .equals("0/1 nodes are available: 1 Insufficient cpu.")));
    ((ObjectNode) n.path("status").path("allocatable")).put("cpu", "4");
    c.updateStatus(Resource.NODES, n);
    assertThat(awaitBound(c, "waits")).isEqualTo("n1");
  }

  @Test
  void aDeletedPodMakesRoomForAPendingOne() {
    node(c, "only", "1", "4Gi");
    scheduler = startScheduler();
    pod(c, "first", "800m", "1Gi");
    assertThat(awaitBound(c, "first")).isEqualTo("only");
    pod(c, "second", "800m", "1Gi");
    assertThat(awaitEvent(c, "second", "FailedScheduling"))
        .isEqualTo("0/1 nodes are available: 1 Insufficient cpu.");
    // A bound pod's deletion is graceful; a kubelet would confirm it with grace period 0.
    c.delete(Resource.PODS, "default", "first", Fixtures.json().put("gracePeriodSeconds", 0));
    assertThat(awaitBound(c, "second")).isEqualTo("only");
  }

  @Test
  void aFinishedPodNoLongerHoldsItsRequests() {
    node(c, "only", "1", "4Gi");
    scheduler = startScheduler();
    pod(c, "job", "800m", "1Gi");
    assertThat(awaitBound(c, "job")).isEqualTo("only");
    pod(c, "next", "800m", "1Gi");
    assertThat(awaitEvent(c, "next", "FailedScheduling"))
        .isEqualTo("0/1 nodes are available: 1 Insufficient cpu.");
    // The pod's phase turns Succeeded: it leaves the scheduler's watch (status.phase!=Succeeded).
    ObjectNode job = c.get(Resource.PODS, "default", "job");
    ((ObjectNode) job.path("status")).put("phase", "Succeeded");
    c.updateStatus(Resource.PODS, job);
    assertThat(awaitBound(c, "next")).isEqualTo("only");
  }

  @Test
  void twoSchedulersWithoutElectionRaceAndForgetTheBindingsTheyLose() {
    node(c, "n1", "8", "16Gi");
    node(c, "n2", "8", "16Gi");
    scheduler = startScheduler();
    Scheduler other = startScheduler();
    try {
      for (int i = 0; i < 30; i++) {
        pod(c, "race-" + i, "100m", "64Mi");
      }
      for (int i = 0; i < 30; i++) {
        awaitBound(c, "race-" + i);
      }
      // Each pod was bound once: the loser of a race got 409 and forgot its assumption.
      assertThat(scheduler.bindings() + other.bindings()).isEqualTo(30);
      // (How many races there were depends on timing: a scheduler that already saw a pod bound
      // does not try it.)
      assertThat(scheduler.lostBindings() + other.lostBindings()).isBetween(0L, 30L);
      // No assumption is left behind: both caches count exactly the bound pods.
      Map<String, Long> bound = new HashMap<>();
      for (int i = 0; i < 30; i++) {
        bound.merge(nodeOf(c, "race-" + i), 100L, Long::sum);
      }
      for (Scheduler s : new Scheduler[] {scheduler, other}) {
        await()
            .atMost(DEADLINE)
            .untilAsserted(
                () -> {
                  for (var n : s.cache().snapshot()) {
                    assertThat(n.requested().milliCpu())
                        .as(n.name())
                        .isEqualTo(bound.getOrDefault(n.name(), 0L));
                  }
                });
      }
    } finally {
      other.close();
    }
  }

  @Test
  void tooManyPodsAndInsufficientMemory() {
    node(
        c,
        "tiny",
        "4",
        "1Gi",
        n -> ((ObjectNode) n.path("status").path("allocatable")).put("pods", "1"));
    node(c, "roomy", "4", "1Gi");
    scheduler = startScheduler();
    pod(
        c,
        "a",
        "100m",
        "900Mi",
        p ->
            ((ObjectNode) p.path("spec"))
                .putObject("nodeSelector")
                .put("kubernetes.io/hostname", "tiny"));
    assertThat(awaitBound(c, "a")).isEqualTo("tiny");
    pod(c, "b", "100m", "512Mi");
    assertThat(awaitBound(c, "b")).isEqualTo("roomy");
    pod(c, "c", "100m", "600Mi");
    assertThat(awaitEvent(c, "c", "FailedScheduling"))
        .isEqualTo("0/2 nodes are available: 1 Too many pods, 2 Insufficient memory.");
  }

  @Test
  void podsForOtherSchedulersAndInvalidRequests() {
    node(c, "n1", "4", "8Gi");
    scheduler = startScheduler();
    pod(
        c,
        "theirs",
        "100m",
        null,
        p -> ((ObjectNode) p.path("spec")).put("schedulerName", "my-scheduler"));
    pod(c, "broken", "lots", null);
    assertThat(awaitEvent(c, "broken", "FailedScheduling"))
        .startsWith("invalid resource requests: cpu: quantity \"lots\" does not match");
    pod(c, "ours", "100m", null);
    assertThat(awaitBound(c, "ours")).isEqualTo("n1");
    assertThat(nodeOf(c, "theirs")).isEmpty();
    assertThat(Fixtures.events(c, "theirs")).isEmpty();
    assertThat(nodeOf(c, "broken")).isEmpty();
  }
}

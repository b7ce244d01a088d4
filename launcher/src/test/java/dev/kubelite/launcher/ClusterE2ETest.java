package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole control plane of {@code kubelite up} in one process, driven only through the API, as a
 * user drives it: a Deployment on three simulated nodes gets its pods scheduled, spread and
 * Running; an image change rolls out; a pod too big stays Pending with a FailedScheduling event;
 * deleting the Deployment removes its ReplicaSets and pods; deleting a namespace empties it; the
 * pods of a node that stops are replaced on the others.
 */
class ClusterE2ETest {
  @TempDir static Path dir;
  static AllInOne cluster;
  static KubeClient k;

  @BeforeAll
  static void start() throws Exception {
    cluster =
        AllInOne.start(
            AllInOne.Options.builder(dir, FreePorts.next(), FreePorts.next(), FreePorts.next())
                .demoTimeouts(true)
                .build());
    k = KubeClient.fromConfig(KubeConfig.load(cluster.kubeconfig().toString()));
    await().atMost(Duration.ofSeconds(60)).until(() -> readyNodes().size() == 3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
    // Under Node,RBAC, every component did all of the above as itself and was never refused: a
    // 403 in a reconcile loop is a missing rule even when the tests pass (the audit log has all).
    assertThat(Refusals.ofComponents(List.of(dir.resolve("logs").resolve("audit.log")), r -> false))
        .isEmpty();
  }

  static List<String> readyNodes() {
    List<String> ready = new ArrayList<>();
    for (JsonNode n : k.list(Resource.NODES, null, ListOptions.NONE).path("items")) {
      for (JsonNode c : n.path("status").path("conditions")) {
        if (c.path("type").asText().equals("Ready") && c.path("status").asText().equals("True")) {
          ready.add(Meta.name(n));
        }
      }
    }
    return ready;
  }

  static List<JsonNode> pods(String ns, String selector) {
    List<JsonNode> out = new ArrayList<>();
    k.list(Resource.PODS, ns, ListOptions.labels(selector)).path("items").forEach(out::add);
    return out;
  }

  static boolean running(JsonNode pod) {
    return pod.path("status").path("phase").asText().equals("Running") && !Meta.isBeingDeleted(pod);
  }

  static ObjectNode deployment(String name, int replicas, String image) {
    ObjectNode d = KubeClient.JSON.createObjectNode();
    d.put("apiVersion", "apps/v1").put("kind", "Deployment");
    d.putObject("metadata").put("name", name);
    ObjectNode spec = d.putObject("spec");
    spec.put("replicas", replicas);
    spec.putObject("selector").putObject("matchLabels").put("app", name);
    ObjectNode tmpl = spec.putObject("template");
    tmpl.putObject("metadata").putObject("labels").put("app", name);
    ObjectNode c = tmpl.putObject("spec").putArray("containers").addObject();
    c.put("name", "app").put("image", image);
    c.putObject("resources").putObject("requests").put("cpu", "100m").put("memory", "64Mi");
    return d;
  }

  @Test
  void deploymentRunsSpreadRollsOutAndCascadesOnDelete() {
    k.create(Resource.DEPLOYMENTS, "default", deployment("web", 3, "nginx:1.25"));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> pods("default", "app=web").stream().filter(ClusterE2ETest::running).count() == 3);
    Set<String> nodes = new HashSet<>();
    for (JsonNode p : pods("default", "app=web")) {
      nodes.add(p.path("spec").path("nodeName").asText());
      assertThat(p.path("status").path("podIP").asText()).isNotEmpty();
    }
    assertThat(nodes).as("3 replicas spread over 3 nodes").hasSize(3);

    ObjectNode patch = KubeClient.JSON.createObjectNode();
    patch
        .putObject("spec")
        .putObject("template")
        .putObject("spec")
        .putArray("containers")
        .addObject()
        .put("name", "app")
        .put("image", "nginx:1.26");
    k.patch(Resource.DEPLOYMENTS, "default", "web", PatchType.STRATEGIC, patch);
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> {
              List<JsonNode> ps = pods("default", "app=web");
              return ps.size() == 3
                  && ps.stream()
                      .allMatch(
                          p ->
                              running(p)
                                  && p.path("spec")
                                      .path("containers")
                                      .get(0)
                                      .path("image")
                                      .asText()
                                      .equals("nginx:1.26"));
            });
    JsonNode d = k.get(Resource.DEPLOYMENTS, "default", "web");
    assertThat(d.path("status").path("updatedReplicas").asInt()).isEqualTo(3);
    assertThat(d.path("status").path("availableReplicas").asInt()).isEqualTo(3);

    k.delete(Resource.DEPLOYMENTS, "default", "web");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                pods("default", "app=web").isEmpty()
                    && k.list(Resource.REPLICASETS, "default", ListOptions.labels("app=web"))
                        .path("items")
                        .isEmpty());
  }

  @Test
  void podsOfAStoppedNodeAreReplacedOnTheOthers() {
    k.create(Resource.DEPLOYMENTS, "default", deployment("sturdy", 3, "sturdy:1"));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                pods("default", "app=sturdy").stream().filter(ClusterE2ETest::running).count()
                    == 3);
    String victim = pods("default", "app=sturdy").get(0).path("spec").path("nodeName").asText();
    // What `kubectl annotate node <n> kubelite.dev/stopped=true` does: the node goes silent.
    ObjectNode stop = KubeClient.JSON.createObjectNode();
    stop.putObject("metadata").putObject("annotations").put("kubelite.dev/stopped", "true");
    k.patch(Resource.NODES, null, victim, PatchType.MERGE, stop);
    try {
      // Demo profile: Unknown after 10 s, evicted 20 s later; the ReplicaSet replaces the pods.
      await()
          .atMost(Duration.ofSeconds(120))
          .until(
              () -> {
                List<JsonNode> live =
                    pods("default", "app=sturdy").stream().filter(ClusterE2ETest::running).toList();
                return live.size() == 3
                    && live.stream()
                        .noneMatch(p -> p.path("spec").path("nodeName").asText().equals(victim));
              });
      JsonNode node = k.get(Resource.NODES, null, victim);
      assertThat(node.path("spec").path("taints").toString())
          .contains("node.kubernetes.io/unreachable");
    } finally {
      ObjectNode start = KubeClient.JSON.createObjectNode();
      start.putObject("metadata").putObject("annotations").putNull("kubelite.dev/stopped");
      k.patch(Resource.NODES, null, victim, PatchType.MERGE, start);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> readyNodes().contains(victim));
  }

  @Test
  void aPodTooBigForEveryNodeStaysPendingWithTheReason() {
    ObjectNode pod = KubeClient.JSON.createObjectNode();
    pod.put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", "huge");
    ObjectNode c = pod.putObject("spec").putArray("containers").addObject();
    c.put("name", "app").put("image", "big");
    c.putObject("resources").putObject("requests").put("cpu", "1000");
    k.create(Resource.PODS, "default", pod);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              for (JsonNode e :
                  k.list(
                          Resource.EVENTS,
                          "default",
                          ListOptions.fields("involvedObject.name=huge,reason=FailedScheduling"))
                      .path("items")) {
                if (e.path("message")
                    .asText()
                    .contains("0/3 nodes are available: 3 Insufficient cpu")) {
                  return true;
                }
              }
              return false;
            });
    assertThat(k.get(Resource.PODS, "default", "huge").path("spec").has("nodeName")).isFalse();
  }

  @Test
  void deletingANamespaceDeletesWhatIsInIt() {
    ObjectNode ns = KubeClient.JSON.createObjectNode();
    ns.put("apiVersion", "v1").put("kind", "Namespace");
    ns.putObject("metadata").put("name", "team");
    k.create(Resource.NAMESPACES, null, ns);
    k.create(Resource.DEPLOYMENTS, "team", deployment("api", 2, "api:1"));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> pods("team", "app=api").stream().filter(ClusterE2ETest::running).count() == 2);
    k.delete(Resource.NAMESPACES, null, "team");
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> {
              try {
                k.get(Resource.NAMESPACES, null, "team");
                return false;
              } catch (ApiException e) {
                return e.isNotFound();
              }
            });
  }
}

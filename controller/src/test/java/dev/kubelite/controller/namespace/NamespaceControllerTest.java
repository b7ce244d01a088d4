package dev.kubelite.controller.namespace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Namespace deletion through the real API server: contents go, then the namespace. */
class NamespaceControllerTest {
  static Cluster cluster;
  static KubeClient c;
  static NamespaceController controller;
  static final Duration DEADLINE = Duration.ofSeconds(30);

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster();
    c = cluster.client();
    controller =
        new NamespaceController(
            c, new NamespaceController.Options(2, Duration.ofMillis(200), Duration.ZERO));
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

  static void namespace(String ns) {
    ObjectNode n = KubeClient.JSON.createObjectNode();
    n.putObject("metadata").put("name", ns);
    c.create(Resource.NAMESPACES, null, n);
  }

  static ObjectNode object(String apiVersion, String kind, String name) {
    ObjectNode o = KubeClient.JSON.createObjectNode();
    o.put("apiVersion", apiVersion).put("kind", kind);
    o.putObject("metadata").put("name", name);
    return o;
  }

  static ObjectNode pod(String name, String node) {
    ObjectNode p = object("v1", "Pod", name);
    ObjectNode spec = p.putObject("spec");
    spec.putArray("containers").addObject().put("name", "c").put("image", "x:1");
    if (node != null) {
      spec.put("nodeName", node);
    }
    return p;
  }

  static boolean gone(Resource r, String ns, String name) {
    try {
      c.get(r, ns, name);
      return false;
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return true;
      }
      throw e;
    }
  }

  static JsonNode condition(String ns, String type) {
    for (JsonNode cond : c.get(Resource.NAMESPACES, null, ns).path("status").path("conditions")) {
      if (cond.path("type").asText().equals(type)) {
        return cond;
      }
    }
    return null;
  }

  @Test
  void deletingANamespaceDeletesEverythingInItThenTheNamespace() {
    String ns = "team-a";
    namespace(ns);
    c.create(Resource.CONFIGMAPS, ns, object("v1", "ConfigMap", "settings"));
    ObjectNode held = object("v1", "ConfigMap", "held");
    Meta.metadata(held).putArray("finalizers").add("example.com/hold");
    c.create(Resource.CONFIGMAPS, ns, held);
    c.create(new Resource("", "v1", "secrets", true), ns, object("v1", "Secret", "token"));
    c.create(
        new Resource("", "v1", "serviceaccounts", true),
        ns,
        object("v1", "ServiceAccount", "robot"));
    ObjectNode lease = object("coordination.k8s.io/v1", "Lease", "lock");
    c.create(Resource.LEASES, ns, lease);
    c.create(Resource.PODS, ns, pod("free", null));
    c.create(Resource.PODS, ns, pod("bound", "node-1"));
    // Another namespace is left alone.
    namespace("team-b");
    c.create(Resource.CONFIGMAPS, "team-b", object("v1", "ConfigMap", "settings"));

    ObjectNode deleting = c.delete(Resource.NAMESPACES, null, ns);
    assertThat(deleting.path("status").path("phase").asText()).isEqualTo("Terminating");

    // What can go goes; the bound pod waits for its kubelet and the held map for its finalizer.
    await().atMost(DEADLINE).until(() -> gone(Resource.CONFIGMAPS, ns, "settings"));
    await().atMost(DEADLINE).until(() -> gone(Resource.LEASES, ns, "lock"));
    await().atMost(DEADLINE).until(() -> gone(Resource.PODS, ns, "free"));
    assertThat(gone(new Resource("", "v1", "secrets", true), ns, "token")).isTrue();
    assertThat(gone(new Resource("", "v1", "serviceaccounts", true), ns, "robot")).isTrue();
    await()
        .atMost(DEADLINE)
        .untilAsserted(
            () -> {
              JsonNode remaining = condition(ns, "NamespaceContentRemaining");
              assertThat(remaining).isNotNull();
              assertThat(remaining.path("status").asText()).isEqualTo("True");
              assertThat(remaining.path("reason").asText()).isEqualTo("SomeResourcesRemain");
              assertThat(remaining.path("message").asText())
                  .isEqualTo(
                      "Some resources are remaining: configmaps. has 1 resource instances,"
                          + " pods. has 1 resource instances");
              JsonNode fins = condition(ns, "NamespaceFinalizersRemaining");
              assertThat(fins.path("status").asText()).isEqualTo("True");
              assertThat(fins.path("message").asText())
                  .isEqualTo(
                      "Some content in the namespace has finalizers remaining: example.com/hold"
                          + " in 1 resource instances");
              JsonNode discovery = condition(ns, "NamespaceDeletionDiscoveryFailure");
              assertThat(discovery.path("status").asText()).isEqualTo("False");
              assertThat(discovery.path("reason").asText()).isEqualTo("ResourcesDiscovered");
              assertThat(condition(ns, "NamespaceDeletionContentFailure").path("reason").asText())
                  .isEqualTo("ContentDeleted");
            });
    assertThat(Meta.isBeingDeleted(c.get(Resource.PODS, ns, "bound"))).isTrue();
    assertThat(gone(Resource.NAMESPACES, null, ns)).isFalse();

    // The finalizer's owner lets go and the "kubelet" confirms the pod: the namespace goes.
    c.patch(
        Resource.CONFIGMAPS,
        ns,
        "held",
        PatchType.MERGE,
        KubeClient.JSON
            .createObjectNode()
            .set("metadata", KubeClient.JSON.createObjectNode().putNull("finalizers")));
    c.delete(
        Resource.PODS,
        ns,
        "bound",
        KubeClient.JSON.createObjectNode().put("gracePeriodSeconds", 0));
    await().atMost(DEADLINE).until(() -> gone(Resource.NAMESPACES, null, ns));
    assertThat(c.list(Resource.CONFIGMAPS, "team-b", ListOptions.NONE).path("items").size())
        .isEqualTo(1);
  }

  @Test
  void realKubectlDeleteNamespaceWaitsUntilItIsGone() throws Exception {
    Kubectl kubectl = new Kubectl(cluster.dir, cluster.url().toString());
    String ns = "kubectl-ns";
    namespace(ns);
    c.create(Resource.CONFIGMAPS, ns, object("v1", "ConfigMap", "a"));
    c.create(Resource.PODS, ns, pod("p", null));
    String output = kubectl.ok("delete", "namespace", ns, "--timeout=60s");
    assertThat(output).contains("namespace \"" + ns + "\" deleted");
    // kubectl delete waits for the object to disappear, so it is gone now.
    assertThat(gone(Resource.NAMESPACES, null, ns)).isTrue();
    assertThat(gone(Resource.CONFIGMAPS, ns, "a")).isTrue();
  }
}

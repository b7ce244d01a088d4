package dev.kubelite.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.testing.Cluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every verb of the REST client against the real API server. */
class KubeClientTest {
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

  static ObjectNode pod(String name, String node) {
    ObjectNode p = KubeClient.JSON.createObjectNode();
    p.put("apiVersion", "v1").put("kind", "Pod");
    p.putObject("metadata").put("name", name).putObject("labels").put("app", "web");
    ObjectNode spec = p.putObject("spec");
    spec.putArray("containers").addObject().put("name", "c").put("image", "nginx:1");
    if (node != null) {
      spec.put("nodeName", node);
    }
    return p;
  }

  @Test
  void writesAreRecordedUnderTheComponentNamedInTheUserAgent() {
    ObjectNode cm = KubeClient.JSON.createObjectNode();
    cm.putObject("metadata").put("name", "agent");
    cm.putObject("data").put("k", "v"); // a field to own: name and namespace are not tracked
    ObjectNode created =
        c.withUserAgent("kube-scheduler").create(Resource.CONFIGMAPS, "default", cm);
    assertThat(created.path("metadata").path("managedFields").get(0).path("manager").asText())
        .isEqualTo("kube-scheduler");
    c.delete(Resource.CONFIGMAPS, "default", "agent");
  }

  @Test
  void createGetListUpdatePatchDelete() {
    ObjectNode created = c.create(Resource.PODS, "default", pod("p1", null));
    assertThat(Meta.uid(created)).isNotEmpty();
    assertThat(Meta.key(created)).isEqualTo("default/p1");
    assertThat(Meta.labels(created)).containsEntry("app", "web");
    ObjectNode got = c.get(Resource.PODS, "default", "p1");
    assertThat(Meta.resourceVersion(got)).isEqualTo(Meta.resourceVersion(created));

    // Update with a stale resourceVersion is a typed 409.
    ObjectNode stale = got.deepCopy();
    Meta.metadata(got).putObject("annotations").put("a", "1");
    ObjectNode updated = c.update(Resource.PODS, got);
    assertThat(Meta.annotations(updated)).containsEntry("a", "1");
    Meta.metadata(stale).putObject("annotations").put("a", "2");
    assertThatThrownBy(() -> c.update(Resource.PODS, stale))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.code()).isEqualTo(409);
              assertThat(e.reason()).isEqualTo("Conflict");
              assertThat(e.isConflict()).isTrue();
              assertThat(e.status().path("kind").asText()).isEqualTo("Status");
            });

    // Status subresource.
    ObjectNode withStatus = updated.deepCopy();
    withStatus.putObject("status").put("phase", "Running");
    assertThat(c.updateStatus(Resource.PODS, withStatus).path("status").path("phase").asText())
        .isEqualTo("Running");

    // The three patch types.
    ObjectNode merge = KubeClient.JSON.createObjectNode();
    merge.putObject("metadata").putObject("labels").put("tier", "front");
    assertThat(Meta.labels(c.patch(Resource.PODS, "default", "p1", PatchType.MERGE, merge)))
        .containsEntry("tier", "front")
        .containsEntry("app", "web");
    ArrayNode json = KubeClient.JSON.createArrayNode();
    json.addObject().put("op", "remove").put("path", "/metadata/labels/tier");
    assertThat(Meta.labels(c.patch(Resource.PODS, "default", "p1", PatchType.JSON, json)))
        .doesNotContainKey("tier");
    ObjectNode smp = KubeClient.JSON.createObjectNode();
    smp.putObject("spec")
        .putArray("containers")
        .addObject()
        .put("name", "c")
        .put("image", "nginx:2");
    ObjectNode patched = c.patch(Resource.PODS, "default", "p1", PatchType.STRATEGIC, smp);
    assertThat(patched.path("spec").path("containers").get(0).path("image").asText())
        .isEqualTo("nginx:2");

    // List with selectors and paging.
    c.create(Resource.PODS, "default", pod("p2", "node-1"));
    assertThat(
            c.list(Resource.PODS, "default", ListOptions.fields("spec.nodeName=node-1"))
                .path("items"))
        .hasSize(1);
    assertThat(c.list(Resource.PODS, null, ListOptions.labels("app=web")).path("items")).hasSize(2);
    List<String> names = new ArrayList<>();
    String cont = null;
    do {
      ObjectNode page = c.list(Resource.PODS, "default", ListOptions.NONE.withLimit(1, cont));
      page.path("items").forEach(i -> names.add(Meta.name(i)));
      cont = page.path("metadata").path("continue").asText(null);
    } while (cont != null && !cont.isEmpty());
    assertThat(names).containsExactly("p1", "p2");

    // Delete: p2 is bound to a node, so its deletion is graceful (the object comes back).
    assertThat(c.delete(Resource.PODS, "default", "p1").path("kind").asText())
        .isIn("Pod", "Status");
    ObjectNode now = KubeClient.JSON.createObjectNode().put("gracePeriodSeconds", 0);
    c.delete(Resource.PODS, "default", "p2", now);
    assertThatThrownBy(() -> c.get(Resource.PODS, "default", "p2"))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.isNotFound()).isTrue();
              assertThat(e.reason()).isEqualTo("NotFound");
              assertThat(e.getMessage()).contains("p2");
            });
    assertThatThrownBy(() -> c.create(Resource.PODS, "default", pod("Bad_Name", null)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(422));
  }

  @Test
  void aStatusPatchWhoseAnswerIsIgnoredIsAppliedAndItsRefusalsAreApiExceptions() {
    c.create(Resource.PODS, "default", pod("ignored-answer", null));
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    patch.putObject("status").put("phase", "Running").put("podIP", "10.0.0.9");
    c.patchStatusIgnoringAnswer(Resource.PODS, "default", "ignored-answer", PatchType.MERGE, patch);
    ObjectNode now = c.get(Resource.PODS, "default", "ignored-answer");
    assertThat(now.path("status").path("phase").asText()).isEqualTo("Running");
    assertThat(now.path("status").path("podIP").asText()).isEqualTo("10.0.0.9");
    // The connection the ignored answer came on serves the next request.
    assertThat(Meta.name(c.get(Resource.PODS, "default", "ignored-answer")))
        .isEqualTo("ignored-answer");
    assertThatThrownBy(
            () ->
                c.patchStatusIgnoringAnswer(
                    Resource.PODS, "default", "no-such-pod", PatchType.MERGE, patch))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.isNotFound()).isTrue());
    c.delete(Resource.PODS, "default", "ignored-answer");
  }

  @Test
  void watchStreamsEventsAndReportsGoneAsATypedError() throws Exception {
    ObjectNode cm = KubeClient.JSON.createObjectNode();
    cm.put("apiVersion", "v1").put("kind", "ConfigMap").putObject("metadata").put("name", "w");
    String rv = Meta.resourceVersion(c.create(Resource.CONFIGMAPS, "default", cm));
    try (Watch w =
        c.watch(
            Resource.CONFIGMAPS,
            "default",
            ListOptions.NONE.withResourceVersion(rv).withTimeoutSeconds(30))) {
      c.delete(Resource.CONFIGMAPS, "default", "w");
      WatchEvent e = w.next();
      assertThat(e.type()).isEqualTo("DELETED");
      assertThat(Meta.name(e.object())).isEqualTo("w");
    }
    cluster.compact();
    try (Watch w =
        c.watch(Resource.CONFIGMAPS, "default", ListOptions.NONE.withResourceVersion("1"))) {
      WatchEvent e = w.next();
      assertThat(e.isError()).isTrue();
      assertThat(e.error().isGone()).isTrue();
    }
  }

  @Test
  void streamReadsTextAsItArrivesAndRefusalsAreApiExceptions() throws Exception {
    try (java.io.InputStream in = c.stream("/version")) {
      String body = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(body).contains("\"gitVersion\"");
    }
    // A pod that is not scheduled has no log to read: the server's 400, as a typed exception.
    ObjectNode unscheduled = pod("unscheduled-log", null);
    // Not labelled app=web: the other tests count those.
    Meta.metadata(unscheduled).remove("labels");
    c.create(Resource.PODS, "default", unscheduled);
    assertThatThrownBy(() -> c.stream(Resource.PODS.path("default", "unscheduled-log") + "/log"))
        .isInstanceOf(ApiException.class)
        .satisfies(e -> assertThat(((ApiException) e).code()).isEqualTo(400))
        .hasMessageContaining("is waiting to start");
    assertThatThrownBy(() -> c.stream(Resource.PODS.path("default", "missing") + "/log"))
        .isInstanceOf(ApiException.class)
        .matches(e -> ((ApiException) e).isNotFound());
    c.delete(Resource.PODS, "default", "unscheduled-log");
  }

  @Test
  void clusterScopedResourcesAndSubresourcePaths() {
    assertThat(Resource.NODES.path(null, "n1")).isEqualTo("/api/v1/nodes/n1");
    assertThat(Resource.LEASES.path("kube-node-lease", "n1"))
        .isEqualTo("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1");
    assertThat(Resource.DEPLOYMENTS.path(null)).isEqualTo("/apis/apps/v1/deployments");
    assertThatThrownBy(() -> Resource.PODS.path(null, "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace");
    assertThat(c.get(Resource.NAMESPACES, null, "default").path("kind").asText())
        .isEqualTo("Namespace");
  }

  @Test
  void kubeconfigPicksTheCurrentContextsServer() throws Exception {
    Path dir = Files.createTempDirectory("kubeconfig");
    Path file = dir.resolve("config");
    Files.writeString(
        file,
        """
        apiVersion: v1
        kind: Config
        current-context: local
        clusters:
        - name: kubelite
          cluster:
            server: %s
            certificate-authority-data: Q0EK
        - name: other
          cluster:
            server: https://10.0.0.1:6443
            insecure-skip-tls-verify: true
        users:
        - name: admin
          user:
            token: abc
            client-certificate-data: Y2VydAo=
            client-key: /etc/key.pem
        contexts:
        - name: local
          context:
            cluster: kubelite
            user: admin
            namespace: team-x
        - name: remote
          context:
            cluster: other
            user: admin
        """
            .formatted(cluster.url()));
    Path second = dir.resolve("second");
    Files.writeString(second, "current-context: remote\nclusters: []\n");
    try {
      KubeConfig k = KubeConfig.load(file.toString(), "/nonexistent", "/nowhere");
      assertThat(k.currentContextName()).isEqualTo("local");
      assertThat(k.namespace()).isEqualTo("team-x");
      assertThat(k.cluster(k.currentContext()).certificateAuthorityData()).isEqualTo("Q0EK");
      KubeConfig.User u = k.user(k.currentContext());
      assertThat(u.token()).isEqualTo("abc");
      assertThat(u.clientCertificateData()).isEqualTo("Y2VydAo=");
      assertThat(u.clientKey()).isEqualTo("/etc/key.pem");
      assertThat(k.clusters().get("other").insecureSkipTlsVerify()).isTrue();
      KubeClient fromConfig = KubeClient.fromConfig(k);
      assertThat(fromConfig.get(Resource.NAMESPACES, null, "default")).isNotNull();

      // KUBECONFIG: files merged, the first to set current-context wins.
      String env = second + java.io.File.pathSeparator + file;
      KubeConfig merged = KubeConfig.load(null, env, "/nowhere");
      assertThat(merged.currentContextName()).isEqualTo("remote");
      assertThat(merged.clusters()).containsKeys("kubelite", "other");
      // An https cluster reads the user's certificate files: a missing one is named.
      assertThatThrownBy(() -> KubeClient.fromConfig(merged)).hasMessageContaining("/etc/key.pem");
      // Default path: ~/.kube/config.
      Files.createDirectories(dir.resolve(".kube"));
      Files.copy(file, dir.resolve(".kube/config"));
      assertThat(KubeConfig.load(null, null, dir.toString()).currentContextName())
          .isEqualTo("local");
      assertThatThrownBy(() -> KubeConfig.load(dir.resolve("missing").toString(), null, "/"))
          .hasMessageContaining("cannot read kubeconfig");
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}

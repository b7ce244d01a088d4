package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import dev.kubelite.apiserver.testing.Kubectl;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real kubectl commands whose typed clients send protobuf bodies: {@code create role | clusterrole
 * | rolebinding | clusterrolebinding} (the objects arrive whole), and {@code drain}, which cordons
 * the node and deletes its pods with protobuf DeleteOptions (no eviction subresource is served, so
 * kubectl deletes instead of evicting).
 */
class KubectlTypedCommandsTest {
  static ApiServerFixture f;

  @BeforeAll
  static void start() throws Exception {
    f = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void rolesAndBindingsMadeByKubectlCreate() throws Exception {
    Kubectl k = new Kubectl(f.dir, f.url(), "default", Duration.ofSeconds(60));
    assertThat(
            k.ok(
                "create",
                "role",
                "reader",
                "--verb=get,list",
                "--resource=pods,deployments.apps",
                "--resource-name=web"))
        .contains("role.rbac.authorization.k8s.io/reader created");
    assertThat(k.ok("create", "rolebinding", "bob-reads", "--role=reader", "--user=bob"))
        .contains("rolebinding.rbac.authorization.k8s.io/bob-reads created");
    assertThat(
            k.ok("create", "clusterrole", "metrics", "--verb=get", "--non-resource-url=/metrics"))
        .contains("clusterrole.rbac.authorization.k8s.io/metrics created");
    assertThat(
            k.ok(
                "create",
                "clusterrolebinding",
                "ops-metrics",
                "--clusterrole=metrics",
                "--group=ops",
                "--serviceaccount=default:robot"))
        .contains("clusterrolebinding.rbac.authorization.k8s.io/ops-metrics created");

    JsonNode role =
        f.get("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/reader").json();
    assertThat(role.path("rules").toString())
        .contains("\"verbs\":[\"get\",\"list\"]")
        .contains("\"resources\":[\"pods\"]")
        .contains("\"resources\":[\"deployments\"]")
        .contains("\"apiGroups\":[\"apps\"]")
        .contains("\"resourceNames\":[\"web\"]");
    JsonNode binding =
        f.get("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/bob-reads")
            .json();
    assertThat(binding.path("roleRef").path("kind").asText()).isEqualTo("Role");
    assertThat(binding.path("roleRef").path("name").asText()).isEqualTo("reader");
    assertThat(binding.path("subjects").get(0).path("name").asText()).isEqualTo("bob");
    assertThat(binding.path("subjects").get(0).path("kind").asText()).isEqualTo("User");
    JsonNode cr = f.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/metrics").json();
    assertThat(cr.path("rules").get(0).path("nonResourceURLs").get(0).asText())
        .isEqualTo("/metrics");
    JsonNode crb =
        f.get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ops-metrics").json();
    assertThat(crb.path("subjects").toString())
        .contains("\"kind\":\"Group\"")
        .contains("\"name\":\"ops\"")
        .contains("\"kind\":\"ServiceAccount\"")
        .contains("\"namespace\":\"default\"");
    assertThat(crb.path("roleRef").path("kind").asText()).isEqualTo("ClusterRole");
  }

  private static void created(Response r) {
    assertThat(r.code()).as(r.body()).isEqualTo(201);
  }

  @Test
  void drainCordonsTheNodeAndDeletesItsReplicatedPods() throws Exception {
    created(f.post("/api/v1/nodes", "{\"metadata\":{\"name\":\"n-drain\"}}"));
    Response rs =
        f.post(
            "/apis/apps/v1/namespaces/default/replicasets",
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":"
                + "{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}");
    created(rs);
    String rsUid = rs.json().path("metadata").path("uid").asText();
    created(
        f.post(
            "/api/v1/namespaces/default/pods",
            "{\"metadata\":{\"name\":\"web-1\",\"labels\":{\"app\":\"web\"},\"ownerReferences\":"
                + "[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\""
                + rsUid
                + "\",\"controller\":true}]},\"spec\":{\"nodeName\":\"n-drain\",\"containers\":"
                + "[{\"name\":\"c\",\"image\":\"nginx\"}]}}"));

    Kubectl k = new Kubectl(f.dir, f.url(), "default", Duration.ofSeconds(60));
    // Grace period 0: no kubelet runs here to confirm a graceful termination.
    Kubectl.Result drained = k.run("drain", "n-drain", "--grace-period=0", "--timeout=30s");
    assertThat(drained.exitCode()).as(drained.output()).isZero();
    assertThat(drained.output()).contains("node/n-drain drained");
    assertThat(f.get("/api/v1/namespaces/default/pods/web-1").code()).isEqualTo(404);
    assertThat(f.get("/api/v1/nodes/n-drain").json().path("spec").path("unschedulable").asBoolean())
        .isTrue();
  }
}

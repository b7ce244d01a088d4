package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code auth can-i} against an API server with Node,RBAC authorization. */
class AuthCanITest {
  @TempDir static Path dir;
  static Cluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = Cluster.secured();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static Cli as(String token) throws Exception {
    return new Cli(Files.createTempDirectory(dir, "cli"), cluster.url(), token);
  }

  @Test
  void schedulerMayBindPodsButNotCreateDeployments() throws Exception {
    Cli scheduler = as("scheduler");
    Result yes = scheduler.run("auth", "can-i", "create", "pods", "--subresource=binding");
    assertThat(yes.exitCode()).as(yes.toString()).isZero();
    assertThat(yes.out()).isEqualTo("yes\n");
    Result no = scheduler.run("auth", "can-i", "create", "deployments.apps");
    assertThat(no.exitCode()).as(no.toString()).isEqualTo(1);
    assertThat(no.out()).isEqualTo("no\n");
    assertThat(scheduler.run("auth", "can-i", "list", "nodes", "-A").out()).isEqualTo("yes\n");
    assertThat(scheduler.run("auth", "can-i", "get", "/healthz").out()).isEqualTo("yes\n");
    assertThat(scheduler.run("auth", "can-i", "get", "/kubelite/v1/store/members").out())
        .isEqualTo("no\n");
    Result quiet = scheduler.run("auth", "can-i", "delete", "secrets", "-q");
    assertThat(quiet.exitCode()).isEqualTo(1);
    assertThat(quiet.out()).isEmpty();
  }

  @Test
  void namespacesNamesAndNodeReasons() throws Exception {
    KubeClient admin = cluster.client("admin");
    ObjectNode role =
        (ObjectNode)
            KubeClient.JSON.readTree(
                """
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role",
                 "metadata":{"name":"one-cm","namespace":"kube-public"},
                 "rules":[{"apiGroups":[""],"resources":["configmaps"],
                           "resourceNames":["cluster-info"],"verbs":["get"]}]}""");
    admin.call(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles",
        "application/json",
        role);
    ObjectNode binding =
        (ObjectNode)
            KubeClient.JSON.readTree(
                """
                {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
                 "metadata":{"name":"gina-one-cm","namespace":"kube-public"},
                 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"one-cm"},
                 "subjects":[{"kind":"User","name":"gina"}]}""");
    admin.call(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings",
        "application/json",
        binding);
    Cli gina = as("user-gina");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(
                        gina.run(
                                "auth",
                                "can-i",
                                "get",
                                "configmaps/cluster-info",
                                "-n",
                                "kube-public")
                            .out())
                    .isEqualTo("yes\n"));
    assertThat(
            gina.run("auth", "can-i", "get", "configmaps", "cluster-info", "-n", "default").out())
        .isEqualTo("no\n");
    assertThat(gina.run("auth", "can-i", "get", "configmaps", "other", "-n", "kube-public").out())
        .isEqualTo("no\n");
    Result node = as("node:n1").run("auth", "can-i", "list", "pods", "-A");
    assertThat(node.exitCode()).isEqualTo(1);
    assertThat(node.out())
        .isEqualTo("no - can only list/watch pods with spec.nodeName=n1 field selector\n");
    Result unknown = gina.run("auth", "can-i", "get", "widgets");
    assertThat(unknown.out()).isEqualTo("no\n");
    assertThat(unknown.err())
        .contains("Warning: the server doesn't have a resource type 'widgets'");
  }
}

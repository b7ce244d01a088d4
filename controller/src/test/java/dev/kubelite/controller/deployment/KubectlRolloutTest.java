package dev.kubelite.controller.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.controller.replicaset.ReplicaSetController;
import dev.kubelite.controller.testing.ControllerFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The real kubectl 1.32's rollout commands against the API server and the controllers. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubectlRolloutTest {
  private ControllerFixture f;
  private Kubectl k;
  private String ns;

  @BeforeAll
  void start() throws Exception {
    f = new ControllerFixture();
    ns = f.namespace("kubectl");
    k = new Kubectl(f.cluster.dir, f.cluster.url().toString(), ns, Duration.ofSeconds(120));
    f.start(new ReplicaSetController(f.client, 3));
    f.start(new DeploymentController(f.client, 3));
    f.kubelet(ns, Duration.ofMillis(100));
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  private Kubectl.Result ok(String... args) throws Exception {
    Kubectl.Result r = k.run(args);
    assertThat(r.exitCode()).as("kubectl " + String.join(" ", args) + ":\n" + r.output()).isZero();
    return r;
  }

  private List<String> podImages() {
    return f.list(Resource.PODS, ns, "app=web").stream()
        .map(p -> p.path("spec").path("containers").get(0).path("image").asText())
        .toList();
  }

  @Test
  void rolloutStatusFailsOnceTheProgressDeadlineIsExceeded() throws Exception {
    // A namespace without the fake kubelet: the pods never become ready.
    String stuckNs = f.namespace("kubectl-stuck");
    ok("-n", stuckNs, "create", "deployment", "stuck", "--image=nginx:1.27", "--replicas=2");
    ok(
        "-n",
        stuckNs,
        "patch",
        "deployment/stuck",
        "-p",
        "{\"spec\":{\"progressDeadlineSeconds\":2}}");
    Kubectl.Result r =
        k.run("-n", stuckNs, "rollout", "status", "deployment/stuck", "--timeout=60s");
    assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
    assertThat(r.output()).contains("error: deployment \"stuck\" exceeded its progress deadline");
  }

  @Test
  void rolloutStatusHistoryUndoRestartPauseResume() throws Exception {
    Path yaml = f.cluster.dir.resolve("web.yaml");
    Files.writeString(
        yaml,
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 3
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: main
                image: nginx:1.27
        """);
    ok("apply", "-f", yaml.toString());
    assertThat(ok("rollout", "status", "deployment/web", "--timeout=60s").output())
        .contains("deployment \"web\" successfully rolled out");

    ok("set", "image", "deployment/web", "main=nginx:1.28");
    Kubectl.Result status = ok("rollout", "status", "deployment/web", "--timeout=60s");
    assertThat(status.output()).contains("deployment \"web\" successfully rolled out");
    assertThat(podImages()).hasSize(3).containsOnly("nginx:1.28");

    ok("annotate", "deployment/web", "kubernetes.io/change-cause=image nginx:1.28");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(k.run("rollout", "history", "deployment/web").output())
                    .containsPattern("(?m)^2 +image nginx:1.28"));
    Kubectl.Result history = ok("rollout", "history", "deployment/web");
    assertThat(history.output())
        .contains("REVISION", "CHANGE-CAUSE")
        .containsPattern("(?m)^1 ")
        .containsPattern("(?m)^2 ");
    assertThat(ok("rollout", "history", "deployment/web", "--revision=1").output())
        .contains("nginx:1.27")
        .contains("pod-template-hash");

    // kubectl 1.32 rolls back on the client: it patches the template of revision 1 back in.
    assertThat(ok("rollout", "undo", "deployment/web").output())
        .contains("deployment.apps/web rolled back");
    ok("rollout", "status", "deployment/web", "--timeout=60s");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(podImages()).hasSize(3).containsOnly("nginx:1.27"));
    history = ok("rollout", "history", "deployment/web");
    assertThat(history.output())
        .doesNotContainPattern("(?m)^1 ")
        .containsPattern("(?m)^2 ")
        .containsPattern("(?m)^3 ");
    assertThat(f.list(Resource.REPLICASETS, ns, "app=web")).hasSize(2);

    // Undo to a named revision.
    assertThat(ok("rollout", "undo", "deployment/web", "--to-revision=2").output())
        .contains("rolled back");
    ok("rollout", "status", "deployment/web", "--timeout=60s");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(podImages()).hasSize(3).containsOnly("nginx:1.28"));

    // Restart: a template annotation, so a new ReplicaSet and fresh pods.
    List<String> before = f.list(Resource.PODS, ns, "app=web").stream().map(Meta::name).toList();
    assertThat(ok("rollout", "restart", "deployment/web").output())
        .contains("deployment.apps/web restarted");
    ok("rollout", "status", "deployment/web", "--timeout=60s");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(f.list(Resource.PODS, ns, "app=web"))
                    .hasSize(3)
                    .noneMatch(p -> before.contains(Meta.name(p))));
    JsonNode d = f.client.get(Resource.DEPLOYMENTS, ns, "web");
    assertThat(
            d.path("spec")
                .path("template")
                .path("metadata")
                .path("annotations")
                .has("kubectl.kubernetes.io/restartedAt"))
        .isTrue();
    assertThat(Meta.annotations(d)).containsEntry("deployment.kubernetes.io/revision", "5");

    // Pause: a template change waits; resume rolls it out.
    assertThat(ok("rollout", "pause", "deployment/web").output())
        .contains("deployment.apps/web paused");
    ok("set", "image", "deployment/web", "main=nginx:1.29");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              ObjectNode now = f.client.get(Resource.DEPLOYMENTS, ns, "web");
              assertThat(now.path("status").path("observedGeneration").asLong())
                  .isEqualTo(Meta.generation(now));
            });
    assertThat(podImages()).containsOnly("nginx:1.28");
    Kubectl.Result waiting = k.run("rollout", "status", "deployment/web", "--timeout=2s");
    assertThat(waiting.exitCode()).isNotZero();
    assertThat(waiting.output())
        .contains(
            "Waiting for deployment \"web\" rollout to finish: 0 out of 3 new replicas have been updated...");
    assertThat(ok("rollout", "resume", "deployment/web").output())
        .contains("deployment.apps/web resumed");
    ok("rollout", "status", "deployment/web", "--timeout=60s");
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(podImages()).hasSize(3).containsOnly("nginx:1.29"));

    // describe shows the controller's events.
    assertThat(ok("describe", "deployment", "web").output())
        .contains("ScalingReplicaSet")
        .contains("Scaled up replica set web-")
        .contains("NewReplicaSetAvailable");
  }
}

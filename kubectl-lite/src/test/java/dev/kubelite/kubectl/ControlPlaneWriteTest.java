package dev.kubelite.kubectl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import dev.kubelite.kubectl.testing.Cli;
import dev.kubelite.kubectl.testing.Cli.Result;
import dev.kubelite.launcher.AllInOne;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The changing verbs with the whole control plane behind the API server (the all-in-one cluster:
 * controllers, garbage collector, scheduler, simulated kubelets): what {@code scale}, {@code apply}
 * and {@code delete --cascade}/{@code --wait} promise depends on them.
 */
class ControlPlaneWriteTest {
  static final Path MANIFESTS =
      Path.of(System.getProperty("user.dir")).getParent().resolve("manifests");
  static final Duration PATIENCE = Duration.ofSeconds(90);

  @TempDir static Path dir;
  static AllInOne cluster;
  static Cli cli;
  static KubeClient k;

  @BeforeAll
  static void start() throws Exception {
    cluster =
        AllInOne.start(
            AllInOne.Options.builder(
                    dir.resolve("cluster"), FreePorts.next(), FreePorts.next(), FreePorts.next())
                .nodes(2)
                .demoTimeouts(true)
                .build());
    cli = new Cli(Files.createDirectories(dir.resolve("cli")), cluster.kubeconfig());
    k = KubeClient.fromConfig(KubeConfig.parse(cluster.kubeconfig()));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static List<JsonNode> items(Resource r, String selector) {
    List<JsonNode> out = new ArrayList<>();
    k.list(r, "default", ListOptions.NONE.withLabelSelector(selector))
        .path("items")
        .forEach(out::add);
    return out;
  }

  static long running(String selector, String image) {
    return items(Resource.PODS, selector).stream()
        .filter(p -> !p.path("metadata").hasNonNull("deletionTimestamp"))
        .filter(p -> p.path("status").path("phase").asText().equals("Running"))
        .filter(p -> p.path("spec").path("containers").get(0).path("image").asText().equals(image))
        .count();
  }

  static boolean gone(Resource r, String name) {
    try {
      k.get(r, "default", name);
      return false;
    } catch (ApiException e) {
      return e.isNotFound();
    }
  }

  @Test
  void theSecuredClusterNeedsTheKubeconfigsCredentials() throws Exception {
    // up's kubeconfig (CA + admin certificate) works; without the user's certificate: kubectl's
    // "must be logged in" refusal.
    assertThat(cli.run("get", "namespaces").out()).contains("kube-system");
    Path bare = dir.resolve("no-user.kubeconfig");
    Files.writeString(
        bare,
        Files.readString(cluster.kubeconfig())
            .replaceAll("(?s)users:.*?contexts:", "users:\n- name: admin\n  user: {}\ncontexts:"));
    Result r = new Cli(Files.createDirectories(dir.resolve("cli-bare")), bare).run("get", "pods");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("error: You must be logged in to the server (Unauthorized)\n");
  }

  @Test
  void reApplyingKeepsTheScaleAndRollsOutTheNewImage() throws Exception {
    // The example deployment without its replicas line: the size is left to `scale`.
    String manifest =
        Files.readString(MANIFESTS.resolve("deployment.yaml"))
            .replace("name: web", "name: site")
            .replace("app: web", "app: site")
            .replace("  replicas: 3\n", "");
    Path f = Files.writeString(dir.resolve("site.yaml"), manifest);
    Result applied = cli.run("apply", "-f", f.toString());
    assertThat(applied.out()).isEqualTo("deployment.apps/site created\nservice/site created\n");
    Result scaled = cli.run("scale", "deployment", "site", "--replicas=3");
    assertThat(scaled.out()).isEqualTo("deployment.apps/site scaled\n");
    await().atMost(PATIENCE).until(() -> running("app=site", "nginx:1.27") == 3);

    Files.writeString(f, manifest.replace("nginx:1.27", "nginx:1.28"));
    Result configured = cli.run("apply", "-f", f.toString());
    assertThat(configured.out())
        .isEqualTo("deployment.apps/site configured\nservice/site unchanged\n");
    await().atMost(PATIENCE).until(() -> running("app=site", "nginx:1.28") == 3);
    assertThat(k.get(Resource.DEPLOYMENTS, "default", "site").path("spec").path("replicas").asInt())
        .isEqualTo(3);

    // Foreground: the deployment goes only after its replica sets; the CLI waits for all that.
    Result deleted = cli.run("delete", "-f", f.toString(), "--cascade=foreground");
    assertThat(deleted.exitCode()).as(deleted.toString()).isZero();
    assertThat(deleted.out())
        .isEqualTo("deployment.apps \"site\" deleted\nservice \"site\" deleted\n");
    assertThat(gone(Resource.DEPLOYMENTS, "site")).isTrue();
    assertThat(items(Resource.REPLICASETS, "app=site")).isEmpty();
  }

  @Test
  void orphanKeepsTheReplicaSetAndDeletingAPodWaitsForItsKubelet() throws Exception {
    String manifest =
        Files.readString(MANIFESTS.resolve("deployment.yaml"))
            .split("---")[0]
            .replace("name: web", "name: kept")
            .replace("app: web", "app: kept")
            .replace("replicas: 3", "replicas: 1");
    Path f = Files.writeString(dir.resolve("kept.yaml"), manifest);
    assertThat(cli.run("apply", "-f", f.toString()).exitCode()).isZero();
    await().atMost(PATIENCE).until(() -> running("app=kept", "nginx:1.27") == 1);
    Result orphan = cli.run("delete", "deploy", "kept", "--cascade=orphan");
    assertThat(orphan.exitCode()).as(orphan.toString()).isZero();
    assertThat(gone(Resource.DEPLOYMENTS, "kept")).isTrue();
    List<JsonNode> sets = items(Resource.REPLICASETS, "app=kept");
    assertThat(sets).hasSize(1);
    assertThat(sets.get(0).path("metadata").path("ownerReferences")).isEmpty();

    String pod = items(Resource.PODS, "app=kept").get(0).path("metadata").path("name").asText();
    Result r = cli.run("delete", "rs", "--all", "--cascade=orphan");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    Result podDeleted = cli.run("delete", "pod", pod);
    assertThat(podDeleted.exitCode()).as(podDeleted.toString()).isZero();
    assertThat(podDeleted.out()).isEqualTo("pod \"" + pod + "\" deleted\n");
    // --wait: by the time the CLI returns, the kubelet has stopped it and it is gone.
    assertThat(gone(Resource.PODS, pod)).isTrue();
  }
}

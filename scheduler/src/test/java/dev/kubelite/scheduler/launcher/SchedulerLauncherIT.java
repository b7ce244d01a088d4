package dev.kubelite.scheduler.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code bin/kubelite scheduler} as a user runs it, against a real API server. */
class SchedulerLauncherIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();

  private record Run(Process process, ByteArrayOutputStream out, Thread pump) {
    String output() {
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  private static Run launch(String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(List.of(ROOT.resolve("bin/kubelite").toString(), "scheduler"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread pump =
        new Thread(
            () -> {
              try {
                p.getInputStream().transferTo(out);
              } catch (IOException e) {
                // Destroying the process closes its output under the pump: that is the end.
                if (p.isAlive()) {
                  throw new UncheckedIOException(e);
                }
              }
            });
    pump.start();
    return new Run(p, out, pump);
  }

  @Test
  void schedulesPodsAndReleasesTheLeaseOnShutdown() throws Exception {
    try (Cluster cluster = new Cluster()) {
      KubeClient c = cluster.client();
      ObjectNode node = KubeClient.JSON.createObjectNode();
      node.putObject("metadata").put("name", "node-1");
      node = c.create(Resource.NODES, null, node);
      ObjectNode status = node.putObject("status");
      status.putObject("allocatable").put("cpu", "2").put("memory", "4Gi").put("pods", "110");
      status.putArray("conditions").addObject().put("type", "Ready").put("status", "True");
      c.updateStatus(Resource.NODES, node);

      Run run =
          launch(
              "--server",
              cluster.url().toString(),
              "--leader-elect-lease-duration=4s",
              "--leader-elect-renew-deadline=3s",
              "--leader-elect-retry-period=500ms");
      try {
        ObjectNode pod = KubeClient.JSON.createObjectNode();
        pod.putObject("metadata").put("name", "web-1");
        pod.putObject("spec")
            .putArray("containers")
            .addObject()
            .put("name", "a")
            .put("image", "nginx");
        c.create(Resource.PODS, "default", pod);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    c.get(Resource.PODS, "default", "web-1")
                        .path("spec")
                        .path("nodeName")
                        .asText()
                        .equals("node-1"));
        assertThat(
                c.get(Resource.LEASES, "kube-system", "kube-scheduler")
                    .path("spec")
                    .path("holderIdentity")
                    .asText())
            .contains("_");
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> run.output().contains("default/web-1 → node-1 (score"));
        assertThat(run.output())
            .contains("kubelite scheduler: watching " + cluster.url())
            .contains("Successfully assigned default/web-1 to node-1")
            .doesNotContain("building");
      } finally {
        run.process().destroy();
        if (!run.process().waitFor(20, TimeUnit.SECONDS)) {
          run.process().destroyForcibly().waitFor();
        }
        run.pump().join(10_000);
      }
      // The shutdown hook released the Lease, so another scheduler can take over at once.
      assertThat(
              c.get(Resource.LEASES, "kube-system", "kube-scheduler")
                  .path("spec")
                  .path("holderIdentity")
                  .asText(""))
          .isEmpty();
    }
  }

  @Test
  void readsTheServerFromAKubeconfigAndRunsWithoutLeaderElection() throws Exception {
    try (Cluster cluster = new Cluster()) {
      KubeClient c = cluster.client();
      ObjectNode node = KubeClient.JSON.createObjectNode();
      node.putObject("metadata").put("name", "node-9");
      node = c.create(Resource.NODES, null, node);
      ObjectNode status = node.putObject("status");
      status.putObject("allocatable").put("cpu", "2").put("memory", "4Gi").put("pods", "110");
      status.putArray("conditions").addObject().put("type", "Ready").put("status", "True");
      c.updateStatus(Resource.NODES, node);
      Path kubeconfig = Files.createTempFile("kubeconfig", ".yaml");
      Files.writeString(
          kubeconfig,
          "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
              + "clusters:\n- name: test\n  cluster:\n    server: "
              + cluster.url()
              + "\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: me\n"
              + "users:\n- name: me\n  user: {}\n");
      Run run = launch("--kubeconfig", kubeconfig.toString(), "--leader-elect=false");
      try {
        ObjectNode pod = KubeClient.JSON.createObjectNode();
        pod.putObject("metadata").put("name", "web-9");
        pod.putObject("spec")
            .putArray("containers")
            .addObject()
            .put("name", "a")
            .put("image", "nginx");
        c.create(Resource.PODS, "default", pod);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    c.get(Resource.PODS, "default", "web-9")
                        .path("spec")
                        .path("nodeName")
                        .asText()
                        .equals("node-9"));
        assertThat(run.output()).contains("(no leader election)");
      } finally {
        run.process().destroy();
        if (!run.process().waitFor(20, TimeUnit.SECONDS)) {
          run.process().destroyForcibly().waitFor();
        }
        run.pump().join(10_000);
        Files.delete(kubeconfig);
      }
    }
  }

  @Test
  void helpAndBadFlags() throws Exception {
    Run help = launch("--help");
    assertThat(help.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    help.pump().join(10_000);
    assertThat(help.process().exitValue()).isZero();
    assertThat(help.output())
        .contains("--kubeconfig", "--server", "--leader-elect", "default-scheduler");

    Run bad = launch("--server", "http://127.0.0.1:1", "--leader-elect-lease-duration=soon");
    assertThat(bad.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    bad.pump().join(10_000);
    assertThat(bad.process().exitValue()).isEqualTo(2);
    assertThat(bad.output()).contains("--leader-elect-lease-duration: \"soon\" is not a duration");
  }
}

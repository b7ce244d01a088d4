package dev.kubelite.kubelet.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.client.testing.Cluster;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code bin/kubelite kubelet} as a user runs it, against a real API server. */
class KubeletLauncherIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();

  /**
   * Only under failsafe (which sets kubelite.root), after the jar is packaged: run by surefire (a
   * -Dtest pattern matching this package) the launcher would start a nested build of the modules
   * the outer build is still writing.
   */
  @org.junit.jupiter.api.BeforeAll
  static void onlyAfterPackaging() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getProperty("kubelite.root") != null,
        "launcher ITs run in the integration-test phase (failsafe), after packaging");
  }

  @Test
  void nodesRegisterAndGoSilentWhenTheProcessStops() throws Exception {
    try (Cluster cluster = new Cluster()) {
      KubeClient c = cluster.client();
      Process p =
          new ProcessBuilder(
                  ROOT.resolve("bin/kubelite").toString(),
                  "kubelet",
                  "--server",
                  cluster.url().toString(),
                  "--nodes",
                  "3",
                  "--node-prefix",
                  "launched",
                  "--cpu",
                  "2",
                  "--node-lease-renew-interval",
                  "500ms")
              .directory(ROOT.toFile())
              .redirectErrorStream(true)
              .start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Thread pump =
          new Thread(
              () -> {
                try {
                  p.getInputStream().transferTo(out);
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      pump.start();
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptionsInstanceOf(ApiException.class)
            .until(
                () ->
                    c.get(Resource.LEASES, "kube-node-lease", "launched-3")
                        .path("spec")
                        .path("holderIdentity")
                        .asText()
                        .equals("launched-3"));
        assertThat(
                c.get(Resource.NODES, null, "launched-1")
                    .path("status")
                    .path("capacity")
                    .path("cpu")
                    .asText())
            .isEqualTo("2");
      } finally {
        p.destroy();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        pump.join(10_000);
      }
      String log = out.toString(StandardCharsets.UTF_8);
      assertThat(log)
          .contains("launched-2 registered: InternalIP 172.16.0.2")
          .doesNotContain("building");
      String renew =
          c.get(Resource.LEASES, "kube-node-lease", "launched-1")
              .path("spec")
              .path("renewTime")
              .asText();
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(4))
          .until(
              () ->
                  c.get(Resource.LEASES, "kube-node-lease", "launched-1")
                      .path("spec")
                      .path("renewTime")
                      .asText()
                      .equals(renew));
      assertThat(c.get(Resource.NODES, null, "launched-1")).isNotNull();
    }
  }

  @Test
  void helpAndBadFlags() throws Exception {
    Run help = run("kubelet", "--help");
    assertThat(help.code).isZero();
    assertThat(help.out).contains("--nodes", "--node-prefix", "--kubeconfig", "--server");
    Run bad = run("kubelet", "--server", "http://127.0.0.1:1", "--pods", "999");
    assertThat(bad.code).isEqualTo(2);
    assertThat(bad.out).contains("--pods must lie in 1..253");
    Run badDuration = run("kubelet", "--server", "http://127.0.0.1:1", "--pod-startup-delay", "3");
    assertThat(badDuration.code).isEqualTo(2);
    assertThat(badDuration.out).contains("--pod-startup-delay: '3' is not a duration");
  }

  record Run(int code, String out) {}

  private static Run run(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = ROOT.resolve("bin/kubelite").toString();
    System.arraycopy(args, 0, cmd, 1, args.length);
    Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }
}

package dev.kubelite.kubectl.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.FreePorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a new user does, as processes: {@code bin/kubelite up}, then {@code bin/kubectl-lite} to
 * apply the example Deployment, watch its pods go Running, describe, scale, roll out and delete it;
 * then a restart that keeps objects and {@code --fresh} that clears them.
 */
class NewUserEndToEndIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();
  private static final Duration SLOW = Duration.ofSeconds(90);

  @TempDir Path dir;
  private final List<Running> started = new ArrayList<>();
  private int port;
  private int storePort;

  /** A process and everything it printed so far. */
  static final class Running {
    final Process process;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final Thread pump;
    volatile boolean stopping;

    Running(List<String> command) throws IOException {
      process =
          new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
      pump =
          new Thread(
              () -> {
                try {
                  process.getInputStream().transferTo(out);
                } catch (IOException e) {
                  if (!stopping) {
                    throw new UncheckedIOException(e);
                  }
                  // Stopped by the test: its output ends here.
                }
              });
      pump.start();
    }

    String output() {
      synchronized (out) {
        return out.toString(StandardCharsets.UTF_8);
      }
    }

    void stop() throws InterruptedException {
      stopping = true;
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      pump.join(10_000);
    }
  }

  record Result(int exitCode, String output) {}

  @AfterEach
  void stopAll() throws InterruptedException {
    for (Running r : started) {
      r.stop();
    }
  }

  private Path data() {
    return dir.resolve("data");
  }

  private Running up(String... extra) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ROOT.resolve("bin/kubelite").toString(),
                "up",
                "--data-dir",
                data().toString(),
                "--port",
                Integer.toString(port),
                "--store-port",
                Integer.toString(storePort),
                "--nodes",
                "3",
                "--profile",
                "demo"));
    cmd.addAll(Arrays.asList(extra));
    Running r = new Running(cmd);
    started.add(r);
    await()
        .atMost(SLOW)
        .until(() -> !r.process.isAlive() || r.output().contains("kubeconfig") && ready());
    assertThat(r.process.isAlive()).as(r.output()).isTrue();
    return r;
  }

  private boolean ready() {
    return Files.exists(data().resolve("admin.kubeconfig"))
        && kubectl("get", "nodes").output().split("\n").length == 4;
  }

  private List<String> kubectlCommand(String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ROOT.resolve("bin/kubectl-lite").toString(),
                "--kubeconfig",
                data().resolve("admin.kubeconfig").toString(),
                "--cache-dir",
                dir.resolve("cache").toString()));
    cmd.addAll(Arrays.asList(args));
    return cmd;
  }

  private Result kubectl(String... args) {
    try {
      Process p =
          new ProcessBuilder(kubectlCommand(args))
              .directory(ROOT.toFile())
              .redirectErrorStream(true)
              .start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("kubectl-lite " + String.join(" ", args) + " hung");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private Result ok(String... args) {
    Result r = kubectl(args);
    assertThat(r.exitCode()).as("kubectl-lite %s: %s", String.join(" ", args), r.output()).isZero();
    return r;
  }

  private long runningPods(String selector) {
    return Arrays.stream(kubectl("get", "pods", "-l", selector).output().split("\n"))
        .filter(l -> l.contains(" Running "))
        .count();
  }

  @Test
  void applyWatchDescribeScaleRollOutDeleteThenRestart() throws Exception {
    port = FreePorts.next();
    storePort = FreePorts.next();
    Running cluster = up();

    Result applied = ok("apply", "-f", "manifests/deployment.yaml");
    assertThat(applied.output()).contains("deployment.apps/web created", "service/web created");

    // get pods -w prints each change until stopped: the three pods reach Running.
    Running watch = new Running(kubectlCommand("get", "pods", "-w"));
    started.add(watch);
    await()
        .atMost(SLOW)
        .until(
            () ->
                watch
                        .output()
                        .lines()
                        .filter(l -> l.contains(" Running "))
                        .map(l -> l.split(" ")[0])
                        .distinct()
                        .count()
                    == 3);
    watch.stop();
    started.remove(watch);

    Result described = ok("describe", "deployment", "web");
    assertThat(described.output()).contains("Name:", "web", "Replicas:", "Events:");

    assertThat(ok("scale", "deployment", "web", "--replicas=5").output())
        .contains("deployment.apps/web scaled");
    await().atMost(SLOW).until(() -> runningPods("app=web") == 5);

    assertThat(ok("rollout", "restart", "deployment/web").output())
        .contains("deployment.apps/web restarted");
    Result status = ok("rollout", "status", "deployment/web", "--timeout=90s");
    assertThat(status.output()).contains("deployment \"web\" successfully rolled out");
    assertThat(ok("rollout", "history", "deployment/web").output()).contains("REVISION", "1", "2");

    ok("create", "namespace", "kept");
    assertThat(ok("delete", "-f", "manifests/deployment.yaml").output())
        .contains("deployment.apps \"web\" deleted", "service \"web\" deleted");
    await().atMost(SLOW).until(() -> !kubectl("get", "pods").output().contains("web-"));

    // Restart: the namespace is still there. --fresh: it is gone.
    cluster.stop();
    started.remove(cluster);
    cluster = up();
    assertThat(ok("get", "namespaces").output()).contains("kept");
    cluster.stop();
    started.remove(cluster);
    up("--fresh");
    assertThat(ok("get", "namespaces").output()).doesNotContain("kept");
  }
}

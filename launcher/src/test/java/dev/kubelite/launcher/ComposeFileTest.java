package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubelet.KubeletCommand;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.testing.FreePorts;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * Docker does not run on the build machines, so the container files are checked here as far as they
 * can be without it: every service of compose.yaml runs a command the image's entry point knows,
 * with flags that command accepts and values it takes (each member's store settings pass the same
 * validation `kubelite member` applies at start); the published ports do not collide; the health
 * check script answers as it should against a real API server. The topology itself runs as
 * processes in {@link HaUpTest}.
 */
class ComposeFileTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @SuppressWarnings("unchecked")
  private static Map<String, Object> services() throws Exception {
    Map<String, Object> compose = new Yaml().load(Files.readString(ROOT.resolve("compose.yaml")));
    return (Map<String, Object>) compose.get("services");
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyServiceRunsAKnownCommandWithValidFlags() throws Exception {
    String entryPoint = Files.readString(ROOT.resolve("docker/kubelite"));
    Set<String> published = new HashSet<>();
    Set<String> members = new HashSet<>();
    for (Map.Entry<String, Object> e : services().entrySet()) {
      Map<String, Object> service = (Map<String, Object>) e.getValue();
      List<String> command = new ArrayList<>();
      for (Object o : (List<Object>) service.get("command")) {
        command.add(String.valueOf(o));
      }
      String name = command.get(0);
      String[] args = command.subList(1, command.size()).toArray(String[]::new);
      assertThat(entryPoint).as("docker/kubelite knows " + name).contains("  " + name + ") main=");
      switch (name) {
        case "member" -> {
          MemberCommand m = new MemberCommand();
          new CommandLine(m).parseArgs(args);
          MemberConfig config = m.storeConfig();
          assertThat(config.initialCluster()).hasSize(3).containsKey(m.name);
          assertThat(m.name).isEqualTo(e.getKey()).isEqualTo(service.get("hostname"));
          members.add(m.name);
        }
        case "load-balancer" -> {
          LoadBalancerCommand lb = new LoadBalancerCommand();
          new CommandLine(lb).parseArgs(args);
          assertThat(lb.backends)
              .containsExactly("member-0:6443", "member-1:6443", "member-2:6443");
        }
        case "kubelet" -> new CommandLine(new KubeletCommand()).parseArgs(args);
        default -> throw new AssertionError("unexpected command " + name + " in " + e.getKey());
      }
      for (Object p : (List<Object>) service.getOrDefault("ports", List.of())) {
        String hostSide = String.valueOf(p).substring(0, String.valueOf(p).lastIndexOf(':'));
        assertThat(published.add(hostSide)).as("%s published once", hostSide).isTrue();
      }
    }
    assertThat(members).containsExactlyInAnyOrder("member-0", "member-1", "member-2");
    assertThat(published)
        .contains("127.0.0.1:6443", "127.0.0.1:6444", "127.0.0.1:2379", "127.0.0.1:2383");
  }

  @Test
  void theHealthCheckPassesOnAReadyApiServerAndFailsOnAClosedPort() throws Exception {
    Path script = ROOT.resolve("docker/kubelite-healthcheck");
    assertThat(Files.isExecutable(script)).isTrue();
    try (Cluster c = new Cluster()) {
      URI url = c.url();
      assertThat(run(script.toString(), Integer.toString(url.getPort()), "/readyz")).isZero();
      assertThat(run(script.toString(), Integer.toString(url.getPort()), "/nonexistent"))
          .isNotZero();
    }
    assertThat(run(script.toString(), Integer.toString(FreePorts.next()), "/readyz")).isNotZero();
  }

  private static int run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }
}

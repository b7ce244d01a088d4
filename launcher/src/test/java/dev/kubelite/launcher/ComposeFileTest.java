package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.client.testing.Cluster;
import dev.kubelite.kubelet.KubeletCommand;
import dev.kubelite.pki.CertsCommand;
import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiSpec;
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
import org.junit.jupiter.api.io.TempDir;
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

  @TempDir Path pkiDir;

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
          // With the PKI it names (made here as the certs service makes it): https:// URLs.
          MemberConfig config =
              m.storeConfig(
                  Pki.ensure(
                      pkiDir,
                      PkiSpec.defaults()
                          .withStoreMembers(List.of("member-0", "member-1", "member-2"))));
          assertThat(config.initialCluster()).hasSize(3).containsKey(m.name);
          assertThat(m.name).isEqualTo(e.getKey()).isEqualTo(service.get("hostname"));
          members.add(m.name);
        }
        case "certs" -> {
          CommandLine.ParseResult pr = new CommandLine(new CertsCommand()).parseArgs(args);
          assertThat(pr.subcommand().commandSpec().name()).isEqualTo("init");
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

  private static List<String> command(Map<String, Object> service) {
    List<String> command = new ArrayList<>();
    for (Object o : (List<?>) service.get("command")) {
      command.add(String.valueOf(o));
    }
    return command;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> service(String name) throws Exception {
    return (Map<String, Object>) services().get(name);
  }

  private static List<String> volumes(Map<String, Object> service) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) service.getOrDefault("volumes", List.of())) {
      out.add(String.valueOf(o));
    }
    return out;
  }

  /**
   * No member runs without TLS: the one-shot certs service makes one PKI for every member and every
   * name clients use; each member reads it (read-only) with --pki-dir and https:// peer URLs; the
   * nodes have their own kubeconfig from it; the health checks go over HTTPS with it.
   */
  @Test
  @SuppressWarnings("unchecked")
  void everyServiceUsesTheSharedPkiForTls() throws Exception {
    Map<String, Object> services = services();
    // certs: the PKI for all three members, every service name in the SANs, kubeconfigs for the
    // load balancer's name.
    CommandLine.ParseResult certs =
        new CommandLine(new CertsCommand())
            .parseArgs(
                command(service("certs"))
                    .subList(1, command(service("certs")).size())
                    .toArray(String[]::new))
            .subcommand();
    assertThat(certs.commandSpec().name()).isEqualTo("init");
    assertThat(certs.<Path>matchedOptionValue("--pki-dir", null)).isEqualTo(Path.of("/pki"));
    assertThat(certs.<List<String>>matchedOptionValue("--store-members", List.of()))
        .containsExactlyInAnyOrder("member-0", "member-1", "member-2");
    List<String> sans = certs.matchedOptionValue("--san", List.of());
    for (String s : services.keySet()) {
      if (s.startsWith("member-") || s.equals("load-balancer")) {
        assertThat(sans).as("the certificates name the service " + s).contains(s);
      }
    }
    assertThat(certs.<URI>matchedOptionValue("--server", null))
        .isEqualTo(URI.create("https://load-balancer:6443"));
    assertThat(certs.<Path>matchedOptionValue("--kubeconfig-dir", null))
        .isEqualTo(Path.of("/pki/kubeconfigs"));
    assertThat(volumes(service("certs"))).containsExactly("pki:/pki");
    assertThat(service("certs").get("restart")).isEqualTo("no");

    for (String m : List.of("member-0", "member-1", "member-2")) {
      Map<String, Object> svc = service(m);
      MemberCommand member = new MemberCommand();
      List<String> cmd = command(svc);
      new CommandLine(member).parseArgs(cmd.subList(1, cmd.size()).toArray(String[]::new));
      assertThat(member.pkiDir).as(m + " --pki-dir").isEqualTo(Path.of("/pki"));
      assertThat(member.initialCluster).doesNotContain("http://").contains("=https://" + m + ":");
      assertThat(volumes(svc)).as(m).contains("pki:/pki:ro");
      assertThat((Map<String, Object>) svc.get("depends_on"))
          .as(m + " starts after the PKI is made")
          .containsEntry("certs", Map.of("condition", "service_completed_successfully"));
      assertThat((List<Object>) ((Map<String, Object>) svc.get("healthcheck")).get("test"))
          .as(m + " health check over HTTPS")
          .containsExactly("CMD", "kubelite-healthcheck", "6443", "/readyz", "/pki");
    }
    assertThat(
            (List<Object>)
                ((Map<String, Object>) service("load-balancer").get("healthcheck")).get("test"))
        .containsExactly("CMD", "kubelite-healthcheck", "6443", "/readyz", "/pki");
    assertThat(volumes(service("load-balancer"))).contains("pki:/pki:ro");

    List<String> nodes = command(service("nodes"));
    assertThat(nodes).contains("--kubeconfig=/pki/kubeconfigs/kubelet.conf");
    assertThat(String.join(" ", nodes)).doesNotContain("--server");
    assertThat(volumes(service("nodes"))).contains("pki:/pki:ro");
    // The certs command is the image's too.
    assertThat(Files.readString(ROOT.resolve("docker/kubelite")))
        .contains("  certs) main=dev.kubelite.pki.CertsCommand ;;");
  }

  @Test
  void theHealthCheckGoesOverHttpsWithThePki(@TempDir Path tmp) throws Exception {
    Path script = ROOT.resolve("docker/kubelite-healthcheck");
    try (AllInOne c =
        AllInOne.start(
            AllInOne.Options.builder(tmp, FreePorts.next(), FreePorts.next(), FreePorts.next())
                .nodes(0)
                .build())) {
      String port = Integer.toString(c.apiUrl().getPort());
      String pki = c.pki().dir().toString();
      // Retried, as Docker retries a health check (its 5 s timeout is tight on a loaded machine).
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> run(script.toString(), port, "/readyz", pki) == 0);
      assertThat(run(script.toString(), port, "/nonexistent", pki)).isNotZero();
      // Without the PKI (plain HTTP against an HTTPS port): unhealthy.
      assertThat(run(script.toString(), port, "/readyz")).isNotZero();
    }
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

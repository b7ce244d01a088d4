package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * compose.yaml's command lines as real processes, since Docker does not run here: each service's
 * {@code command} exactly as the file has it, run with the main class docker/kubelite maps it to,
 * adapted only where containers and this machine differ — the service host names become 127.0.0.1,
 * the container ports free ports, {@code /pki} and {@code /data} directories of the test, and
 * {@code 0.0.0.0} loopback. The certs service makes the PKI, the members serve with it (mutual TLS
 * between store members, HTTPS with Node,RBAC), the health check passes over HTTPS, the nodes
 * register through the load balancer with their own kubeconfig, a Deployment runs, and no component
 * is refused anything in its work.
 */
class ComposeProcessesTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern MAIN = Pattern.compile("^\\s+([a-z-]+)\\) main=([\\w.]+) ;;$");

  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Process p : started) {
      p.destroy();
    }
    for (Process p : started) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Map<String, Object>> services() throws Exception {
    Map<String, Object> compose = new Yaml().load(Files.readString(ROOT.resolve("compose.yaml")));
    return (Map<String, Map<String, Object>>) compose.get("services");
  }

  /** The image's commands: {@code member} → dev.kubelite.launcher.MemberCommand, ... */
  private static Map<String, String> mains() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(ROOT.resolve("docker/kubelite"))) {
      Matcher m = MAIN.matcher(line);
      if (m.matches()) {
        out.put(m.group(1), m.group(2));
      }
    }
    return out;
  }

  private static List<String> strings(Object list) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) list) {
      out.add(String.valueOf(o));
    }
    return out;
  }

  /** Runs a service's command as the image would, with {@code adapt} applied to each argument. */
  private Process run(String service, List<String> command, Map<String, String> adapt)
      throws IOException {
    String main = mains().get(command.get(0));
    assertThat(main).as("docker/kubelite knows " + command.get(0)).isNotNull();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Dkubelite.log.tag=" + service);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main);
    for (String arg : command.subList(1, command.size())) {
      String a = arg;
      for (Map.Entry<String, String> e : adapt.entrySet()) {
        a = a.replace(e.getKey(), e.getValue());
      }
      cmd.add(a);
    }
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(service + ".log").toFile())
            .start();
    started.add(p);
    return p;
  }

  private String log(String service) {
    try {
      String text = Files.readString(dir.resolve(service + ".log"), StandardCharsets.UTF_8);
      return text.length() > 6000 ? text.substring(text.length() - 6000) : text;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int healthCheck(List<String> test, Map<String, String> adapt) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ROOT.resolve("docker").resolve(test.get(1)).toString());
    for (String arg : test.subList(2, test.size())) {
      cmd.add(adapt.getOrDefault(arg, arg)); // whole arguments: the port, the PKI directory
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  @Test
  @SuppressWarnings("unchecked")
  void theComposeCommandLinesRunAsProcessesWithTls() throws Exception {
    Map<String, Map<String, Object>> services = services();
    Path pki = dir.resolve("pki");
    int lb = FreePorts.next();
    Map<String, int[]> ports = new LinkedHashMap<>(); // member → api, store client, store peer
    for (String m : List.of("member-0", "member-1", "member-2")) {
      ports.put(m, new int[] {FreePorts.next(), FreePorts.next(), FreePorts.next()});
    }
    // What differs between containers and this machine: names, ports, directories.
    Map<String, String> common = new LinkedHashMap<>();
    common.put("=/pki", "=" + pki);
    common.put("load-balancer:6443", "127.0.0.1:" + lb);
    ports.forEach(
        (m, p) -> {
          common.put(m + ":2380", "127.0.0.1:" + p[2]);
          common.put(m + ":6443", "127.0.0.1:" + p[0]);
        });
    common.put("0.0.0.0", "127.0.0.1");

    // The one-shot certs service.
    Process certs = run("certs", strings(services.get("certs").get("command")), common);
    assertThat(certs.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(certs.exitValue()).as(log("certs")).isZero();

    for (Map.Entry<String, int[]> e : ports.entrySet()) {
      String m = e.getKey();
      Map<String, String> adapt = new LinkedHashMap<>(common);
      adapt.put("--data-dir=/data", "--data-dir=" + dir.resolve(m));
      adapt.put("--advertise-address=" + m, "--advertise-address=127.0.0.1");
      adapt.put("--port=6443", "--port=" + e.getValue()[0]);
      adapt.put("--store-client-port=2379", "--store-client-port=" + e.getValue()[1]);
      adapt.put("--store-peer-port=2380", "--store-peer-port=" + e.getValue()[2]);
      run(m, strings(services.get(m).get("command")), adapt);
    }
    Map<String, String> lbAdapt = new LinkedHashMap<>(common);
    lbAdapt.put("--port=6443", "--port=" + lb);
    run("load-balancer", strings(services.get("load-balancer").get("command")), lbAdapt);

    // Each member's and the load balancer's own health check (HTTPS with the PKI) passes.
    await()
        .atMost(Duration.ofSeconds(150))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              for (Map.Entry<String, int[]> e : ports.entrySet()) {
                List<String> test =
                    strings(
                        ((Map<String, Object>) services.get(e.getKey()).get("healthcheck"))
                            .get("test"));
                Map<String, String> adapt = new LinkedHashMap<>();
                adapt.put("6443", Integer.toString(e.getValue()[0]));
                adapt.put("/pki", pki.toString());
                assertThat(healthCheck(test, adapt))
                    .as(e.getKey() + ": " + log(e.getKey()))
                    .isZero();
              }
              List<String> test =
                  strings(
                      ((Map<String, Object>) services.get("load-balancer").get("healthcheck"))
                          .get("test"));
              assertThat(
                      healthCheck(
                          test, Map.of("6443", Integer.toString(lb), "/pki", pki.toString())))
                  .isZero();
            });

    // The nodes, with their kubeconfig from the certs service, through the load balancer.
    run("nodes", strings(services.get("nodes").get("command")), common);

    // The admin kubeconfig certs init wrote (for the load balancer), with the real kubectl.
    Path adminConf = pki.resolve("kubeconfigs").resolve("admin.conf");
    Kubectl kubectl =
        Kubectl.withKubeconfig(
            Files.createDirectories(dir.resolve("kubectl")), Files.readString(adminConf));
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(
            () ->
                assertThat(kubectl.ok("get", "nodes", "-o", "name"))
                    .as(log("nodes"))
                    .contains("node/node-1", "node/node-2", "node/node-3"));
    KubeClient admin = KubeClient.fromConfig(KubeConfig.parse(adminConf));
    ObjectNode d = KubeClient.JSON.createObjectNode();
    d.put("apiVersion", "apps/v1").put("kind", "Deployment");
    d.putObject("metadata").put("name", "web");
    ObjectNode spec = d.putObject("spec").put("replicas", 3);
    spec.putObject("selector").putObject("matchLabels").put("app", "web");
    ObjectNode tmpl = spec.putObject("template");
    tmpl.putObject("metadata").putObject("labels").put("app", "web");
    tmpl.putObject("spec").putArray("containers").addObject().put("name", "app").put("image", "x");
    admin.create(Resource.DEPLOYMENTS, "default", d);
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> {
              int running = 0;
              for (JsonNode p :
                  admin
                      .list(Resource.PODS, "default", ListOptions.labels("app=web"))
                      .path("items")) {
                if (p.path("status").path("phase").asText().equals("Running")) {
                  running++;
                }
              }
              return running == 3;
            });

    // The store members serve TLS to clients and to each other.
    for (String m : ports.keySet()) {
      assertThat(Files.readString(dir.resolve(m + ".log")))
          .contains("store https://127.0.0.1:", "(peer https://127.0.0.1:");
    }
    // No component was refused anything (each member's audit log has its API server's 403s).
    List<Path> audits = new ArrayList<>();
    for (String m : ports.keySet()) {
      audits.add(dir.resolve(m).resolve("logs").resolve("audit.log"));
    }
    assertThat(Refusals.ofComponents(audits, r -> false)).isEmpty();
  }
}

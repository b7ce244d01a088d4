package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubelite.apiserver.testing.Kubectl;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubelite up --ha} as a user runs it, as real processes: three members and the nodes come
 * up, a Deployment runs, the member that leads the store is killed with SIGKILL and the cluster
 * goes on (a new store leader, writes through the other members' API servers and the load balancer,
 * the Deployment scaled) and {@code up} restarts the member, which rejoins; {@code kubelite logs}
 * shows every component's lines tagged; SIGTERM to {@code up} stops every child; {@code up --ha}
 * again resumes the same cluster, and SIGKILL to {@code up} takes its children with it.
 */
class HaUpTest {
  private static final Pattern MEMBER_PID = Pattern.compile("(member-\\d)  pid (\\d+)");
  private static final Pattern NODES_PID = Pattern.compile("nodes     pid (\\d+)");

  @TempDir Path dir;

  /** The data directory of the cluster under test (its PKI holds the etcd client certificate). */
  static Path dataDir;

  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void stopWhatIsLeft() throws Exception {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** {@code n} consecutive free ports on 127.0.0.1, below the kernel's ephemeral range. */
  static int freeBlock(int n) {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = ThreadLocalRandom.current().nextInt(20000, 32000);
      List<ServerSocket> held = new ArrayList<>();
      try {
        for (int i = 0; i < n; i++) {
          held.add(new ServerSocket(base + i, 0, InetAddress.getLoopbackAddress()));
        }
        return base;
      } catch (IOException e) {
        // taken: try another block
      } finally {
        for (ServerSocket s : held) {
          try {
            s.close();
          } catch (IOException e) {
            // closing a probe socket; nothing to do
          }
        }
      }
    }
    throw new IllegalStateException("no block of " + n + " free ports on 127.0.0.1");
  }

  private Process java(Path out, Class<?> main, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    started.add(p);
    return p;
  }

  private Process up(Path out, Path data, int port, int storePort) throws Exception {
    Process p =
        java(
            out,
            UpCommand.class,
            "--ha",
            "--data-dir",
            data.toString(),
            "--port",
            Integer.toString(port),
            "--store-port",
            Integer.toString(storePort),
            "--nodes",
            "2");
    await()
        .atMost(Duration.ofSeconds(150))
        .until(() -> Files.readString(out).contains("Ctrl-C stops the cluster") || !p.isAlive());
    assertThat(p.isAlive()).as(Files.readString(out)).isTrue();
    return p;
  }

  /** Member name → pid, from the endpoints {@code up --ha} prints, plus "nodes". */
  private static Map<String, Long> pids(Path out) throws IOException {
    String text = Files.readString(out);
    Map<String, Long> pids = new TreeMap<>();
    Matcher m = MEMBER_PID.matcher(text);
    while (m.find()) {
      pids.put(m.group(1), Long.parseLong(m.group(2)));
    }
    Matcher n = NODES_PID.matcher(text);
    assertThat(n.find()).as(text).isTrue();
    pids.put("nodes", Long.parseLong(n.group(1)));
    assertThat(pids).as(text).containsKeys("member-0", "member-1", "member-2");
    return pids;
  }

  /** {@code etcdctl endpoint status} of {@code endpoints}: endpoint → [member id, leader id]. */
  private static Map<String, String[]> storeStatus(List<String> endpoints) throws Exception {
    // The store takes only clients with a certificate of its CA: the one etcdctl.env names.
    Path pki = dataDir.resolve("pki");
    Process p =
        new ProcessBuilder(
                "/usr/bin/etcdctl",
                "--endpoints=" + String.join(",", endpoints),
                "--cacert=" + pki.resolve("etcd/ca.crt"),
                "--cert=" + pki.resolve("etcd/healthcheck-client.crt"),
                "--key=" + pki.resolve("etcd/healthcheck-client.key"),
                "--command-timeout=3s",
                "endpoint",
                "status",
                "-w",
                "json")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Map<String, String[]> status = new TreeMap<>();
    String text = new String(out, StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      return status;
    }
    for (JsonNode e : new ObjectMapper().readTree(text)) {
      JsonNode s = e.path("Status");
      status.put(
          e.path("Endpoint").asText(),
          new String[] {s.path("header").path("member_id").asText(), s.path("leader").asText()});
    }
    return status;
  }

  private static long running(Kubectl k) throws Exception {
    String phases = k.ok("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}");
    return phases.isBlank()
        ? 0
        : List.of(phases.strip().split("\\s+")).stream().filter("Running"::equals).count();
  }

  @Test
  void threeMembersSurviveTheStoreLeadersDeathLogTaggedAndStopWithTheirParent() throws Exception {
    int port = freeBlock(4);
    int storePort = freeBlock(6);
    Path data = dir.resolve("data");
    dataDir = data;
    Path out = dir.resolve("up.out");
    Process up = up(out, data, port, storePort);
    Map<String, Long> pids = pids(out);
    assertThat(Files.readString(data.resolve("etcdctl.env")))
        .contains(
            "ETCDCTL_ENDPOINTS=https://127.0.0.1:"
                + storePort
                + ",https://127.0.0.1:"
                + (storePort + 2)
                + ",https://127.0.0.1:"
                + (storePort + 4));
    assertThat(Files.readString(data.resolve("admin.kubeconfig")))
        .contains("server: https://127.0.0.1:" + port)
        .contains("name: member-2")
        .contains("server: https://127.0.0.1:" + (port + 3))
        .contains("client-certificate-data: ");

    // Through the load balancer, with the real kubectl.
    Kubectl k = Kubectl.withKubeconfig(dir, Files.readString(data.resolve("admin.kubeconfig")));
    k.ok("create", "deployment", "web", "--image=nginx", "--replicas=2");
    await().atMost(Duration.ofSeconds(60)).until(() -> running(k) == 2);

    // The member that leads the store.
    List<String> endpoints = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      endpoints.add("https://127.0.0.1:" + (storePort + 2 * i));
    }
    Map<String, String[]> status = storeStatus(endpoints);
    assertThat(status).hasSize(3);
    String leaderId = status.values().iterator().next()[1];
    int leader = -1;
    for (int i = 0; i < 3; i++) {
      if (status.get(endpoints.get(i))[0].equals(leaderId)) {
        leader = i;
      }
    }
    assertThat(leader).as("one member leads the store").isNotNegative();
    long leaderPid = pids.get("member-" + leader);
    ProcessHandle.of(leaderPid).orElseThrow().destroyForcibly(); // kill -9
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ProcessHandle.of(leaderPid).map(h -> !h.isAlive()).orElse(true));

    List<String> survivors = new ArrayList<>(endpoints);
    survivors.remove(leader);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              Map<String, String[]> s = storeStatus(survivors);
              return s.size() == 2
                  && s.values().stream().allMatch(v -> !v[1].equals("0") && !v[1].equals(leaderId));
            });
    // Writes through each surviving member's own API server, and through the load balancer.
    for (int i = 0; i < 3; i++) {
      if (i != leader) {
        k.ok(
            "--context",
            "member-" + i,
            "create",
            "configmap",
            "after-" + i,
            "--from-literal=member=" + i);
      }
    }
    k.ok("scale", "deployment", "web", "--replicas=3");
    // The scheduler and controller manager may have led on the dead member: their leases expire
    // (15 s) and a survivor takes over.
    await().atMost(Duration.ofSeconds(60)).until(() -> running(k) == 3);
    assertThat(k.ok("get", "configmaps", "-o", "name")).contains("configmap/after-");

    // `up` restarts the killed member; its store member rejoins and follows the new leader.
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> {
              Map<String, String[]> s = storeStatus(endpoints);
              return s.size() == 3
                  && s.values().stream().map(v -> v[1]).distinct().count() == 1
                  && !s.get(endpoints.get(0))[1].equals(leaderId);
            });

    // Under Node,RBAC no component was refused anything, not even while its member restarted
    // (each member's API server audits its own requests).
    List<Path> audits = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      audits.add(data.resolve("member-" + i).resolve("logs").resolve("audit.log"));
    }
    assertThat(Refusals.ofComponents(audits, r -> false)).isEmpty();

    // kubelite logs: every component's lines, tagged with member and component.
    Path logsOut = dir.resolve("logs.out");
    Process logs = java(logsOut, LogsCommand.class, "--data-dir", data.toString());
    assertThat(logs.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(logs.exitValue()).isZero();
    String log = Files.readString(logsOut);
    for (int i = 0; i < 3; i++) {
      assertThat(log).contains("[member-" + i + "/store]", "[member-" + i + "/apiserver]");
    }
    assertThat(log)
        .containsPattern("\\[member-\\d/scheduler\\]")
        .containsPattern("\\[member-\\d/controller-manager\\]")
        .contains("[nodes/kubelet]", "[up]")
        .contains("(pid " + leaderPid + ") exited with code 137; restarting it in 2 s");
    for (String line : log.split("\n")) {
      assertThat(line).as("every line is tagged").matches("(\\[.+\\] .*|)");
    }

    // SIGTERM to `up`: it stops its children (the restarted member too), then itself.
    List<ProcessHandle> children = up.toHandle().children().toList();
    assertThat(children).hasSize(4);
    // Ctrl-C in a terminal signals the whole process group: the children ignore SIGINT so that
    // `up` orders their stop (Linux: bit 2 of SigIgn in /proc/PID/status is SIGINT).
    for (ProcessHandle c : children) {
      Path procStatus = Path.of("/proc", Long.toString(c.pid()), "status");
      if (Files.exists(procStatus)) {
        String ignored =
            Files.readAllLines(procStatus).stream()
                .filter(l -> l.startsWith("SigIgn:"))
                .findFirst()
                .orElseThrow()
                .substring("SigIgn:".length())
                .strip();
        assertThat(Long.parseLong(ignored, 16) & 2L)
            .as("child %d ignores SIGINT", c.pid())
            .isEqualTo(2L);
      }
    }
    up.destroy();
    assertThat(up.waitFor(90, TimeUnit.SECONDS)).isTrue();
    for (ProcessHandle c : children) {
      assertThat(c.isAlive()).as("child %d stopped", c.pid()).isFalse();
    }
    assertThat(Files.readString(out)).contains("kubelite up: stopped");

    // `up --ha` again resumes the cluster; SIGKILL to it takes the children along (stdin closes).
    Path out2 = dir.resolve("up2.out");
    Process again = up(out2, data, port, storePort);
    Map<String, Long> pids2 = pids(out2);
    assertThat(k.ok("get", "configmaps", "-o", "name")).contains("configmap/after-");
    again.destroyForcibly();
    assertThat(again.waitFor(30, TimeUnit.SECONDS)).isTrue();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                pids2.values().stream()
                    .noneMatch(
                        pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)));
  }
}

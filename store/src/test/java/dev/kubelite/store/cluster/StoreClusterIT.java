package dev.kubelite.store.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-member store as three real processes ({@code bin/kubelite store}) on 127.0.0.1, driven by the
 * real etcdctl: replication, linearizable reads on followers, kill -9 of the leader under write
 * load, and kill -9 of everyone — no acknowledged write may be lost.
 */
class StoreClusterIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();

  @TempDir Path dir;

  private final List<Member> members = new ArrayList<>();

  /** One member process and its ports. */
  private final class Member {
    final String name;
    final int clientPort;
    final int peerPort;
    Process process;

    Member(String name) throws IOException {
      this.name = name;
      this.clientPort = FreePorts.next();
      this.peerPort = FreePorts.next();
    }

    String endpoint() {
      return "127.0.0.1:" + clientPort;
    }

    void start(String initialCluster) throws IOException {
      String client = "http://127.0.0.1:" + clientPort;
      String peer = "http://127.0.0.1:" + peerPort;
      process =
          new ProcessBuilder(
                  ROOT.resolve("bin/kubelite").toString(),
                  "store",
                  "--name",
                  name,
                  "--data-dir",
                  dir.resolve(name).toString(),
                  "--listen-client-urls",
                  client,
                  "--advertise-client-urls",
                  client,
                  "--listen-peer-urls",
                  peer,
                  "--initial-advertise-peer-urls",
                  peer,
                  "--initial-cluster",
                  initialCluster,
                  "--initial-cluster-token",
                  "it-cluster")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile()))
              .start();
    }

    void kill9() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }

    /** This member's view: is it the leader? (null if it does not answer) */
    Boolean isLeader() throws Exception {
      Result r = EtcdProcess.Etcdctl.run(endpoint(), "endpoint", "status", "-w", "json");
      if (r.exitCode() != 0) {
        return null;
      }
      return number(r.output(), "member_id").equals(number(r.output(), "leader"));
    }
  }

  private static String number(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
    return m.find() ? m.group(1) : "none";
  }

  private String initialCluster() {
    List<String> parts = new ArrayList<>();
    for (Member m : members) {
      parts.add(m.name + "=http://127.0.0.1:" + m.peerPort);
    }
    return String.join(",", parts);
  }

  private String allEndpoints() {
    List<String> eps = new ArrayList<>();
    for (Member m : members) {
      eps.add(m.endpoint());
    }
    return String.join(",", eps);
  }

  private Result ctl(String endpoints, String... args) throws Exception {
    return EtcdProcess.Etcdctl.run(endpoints, args);
  }

  private Member awaitLeader(Duration within) throws IOException {
    try {
      return awaitLeaderOrThrow(within);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      StringBuilder logs = new StringBuilder("no leader within " + within + "; member logs:");
      for (Member m : members) {
        Path log = dir.resolve(m.name + ".log");
        List<String> lines =
            java.nio.file.Files.exists(log) ? java.nio.file.Files.readAllLines(log) : List.of();
        logs.append("\n--- ").append(m.name).append(" (last 25 lines)\n");
        lines
            .subList(Math.max(0, lines.size() - 25), lines.size())
            .forEach(l -> logs.append(l).append('\n'));
      }
      throw new AssertionError(logs.toString(), e);
    }
  }

  private Member awaitLeaderOrThrow(Duration within) {
    Member[] leader = new Member[1];
    await()
        .atMost(within)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              for (Member m : members) {
                if (m.process != null && m.process.isAlive() && Boolean.TRUE.equals(m.isLeader())) {
                  leader[0] = m;
                  return true;
                }
              }
              return false;
            });
    return leader[0];
  }

  private void startAll() throws IOException {
    for (Member m : members) {
      m.start(initialCluster());
    }
  }

  @AfterEach
  void stopAll() throws InterruptedException {
    for (Member m : members) {
      if (m.process != null) {
        m.kill9();
      }
    }
  }

  @Test
  void survivesLeaderKillUnderLoadAndTotalCrashWithoutLosingAcknowledgedWrites() throws Exception {
    EtcdProcess.binary("etcdctl");
    for (String name : List.of("infra0", "infra1", "infra2")) {
      members.add(new Member(name));
    }
    startAll();
    Member leader = awaitLeader(Duration.ofSeconds(60)); // the first start may build the jar

    // Replication and a linearizable read on a follower.
    assertThat(ctl(leader.endpoint(), "put", "/k/first", "1").exitCode()).isZero();
    Member follower = members.stream().filter(m -> m != leader).findFirst().orElseThrow();
    assertThat(ctl(follower.endpoint(), "get", "/k/first").output()).isEqualTo("/k/first\n1\n");
    assertThat(ctl(follower.endpoint(), "member", "list").output().lines()).hasSize(3);

    // Write load through every endpoint while the leader is killed.
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread writer =
        new Thread(
            () -> {
              for (int i = 0; writing.get(); i++) {
                try {
                  String key = "/k/load-" + i;
                  if (ctl(allEndpoints(), "put", key, "v" + i).exitCode() == 0) {
                    acknowledged.add(key);
                  }
                } catch (Exception e) {
                  throw new IllegalStateException("writer failed", e);
                }
              }
            },
            "writer");
    writer.start();
    await().atMost(Duration.ofSeconds(20)).until(() -> acknowledged.size() >= 10);
    long killedAt = System.nanoTime();
    leader.kill9();
    Member next = awaitLeader(Duration.ofSeconds(3));
    long electedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
    assertThat(next).isNotSameAs(leader);
    int before = acknowledged.size();
    await().atMost(Duration.ofSeconds(20)).until(() -> acknowledged.size() >= before + 10);
    writing.set(false);
    writer.join(30_000);
    for (String key : acknowledged) {
      assertThat(ctl(next.endpoint(), "get", key, "--print-value-only").output())
          .as(
              "acknowledged %s after the leader was killed (new leader in %d ms)",
              key, electedMillis)
          .isNotEmpty();
    }

    // The old leader comes back and catches up.
    leader.start(initialCluster());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                ctl(leader.endpoint(), "get", "/k/load-0", "--consistency=s")
                    .output()
                    .contains("v0"));

    // Everyone is killed at once; after a restart, every acknowledged write is there.
    for (Member m : members) {
      m.kill9();
    }
    startAll();
    Member afterCrash = awaitLeader(Duration.ofSeconds(30));
    Result all = ctl(afterCrash.endpoint(), "get", "/k/", "--prefix", "--keys-only");
    for (String key : acknowledged) {
      assertThat(all.output()).contains(key + "\n");
    }
  }
}

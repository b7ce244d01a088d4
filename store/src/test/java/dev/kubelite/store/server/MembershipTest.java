package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes on a live cluster through the real etcdctl: add a learner, start it with
 * {@code --initial-cluster-state existing}, promote it, remove a founding member.
 */
class MembershipTest {
  @TempDir Path dir;

  private final Map<String, int[]> ports = new LinkedHashMap<>();
  private final Map<String, StoreServer> servers = new LinkedHashMap<>();

  private String peer(String name) {
    return "http://127.0.0.1:" + ports.get(name)[1];
  }

  private String endpoint(String name) {
    return "127.0.0.1:" + ports.get(name)[0];
  }

  private String initialCluster() {
    List<String> parts = new ArrayList<>();
    ports.keySet().forEach(n -> parts.add(n + "=" + peer(n)));
    return String.join(",", parts);
  }

  private void start(String name, String state) throws Exception {
    String client = "http://" + endpoint(name);
    servers.put(
        name,
        StoreServer.start(
            MemberConfig.fromFlags(
                name,
                dir.resolve(name).toString(),
                client,
                client,
                peer(name),
                peer(name),
                initialCluster(),
                state,
                "membership-test")));
  }

  private Result ctl(String name, String... args) throws Exception {
    return EtcdProcess.Etcdctl.run(endpoint(name), args);
  }

  @AfterEach
  void stop() {
    servers.values().forEach(StoreServer::close);
  }

  @Test
  void addLearnerPromoteItAndRemoveAFounder() throws Exception {
    EtcdProcess.binary("etcdctl");
    for (String n : List.of("infra0", "infra1", "infra2")) {
      ports.put(n, new int[] {FreePorts.next(), FreePorts.next()});
    }
    for (String n : List.of("infra0", "infra1", "infra2")) {
      start(n, "new");
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> ctl("infra0", "put", "/before", "1").exitCode() == 0);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !ctl("infra0", "member", "list").output().contains("unstarted"));

    ports.put("infra3", new int[] {FreePorts.next(), FreePorts.next()});
    Result added =
        ctl("infra0", "member", "add", "infra3", "--peer-urls=" + peer("infra3"), "--learner");
    assertThat(added.exitCode()).as(added.output()).isZero();
    // etcdctl prints the id padded to 16 columns: a leading zero nibble becomes a space.
    Matcher m = Pattern.compile("Member\\s+([0-9a-f]+) added").matcher(added.output());
    assertThat(m.find()).as(added.output()).isTrue();
    String id = m.group(1);
    assertThat(added.output()).contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\"");
    assertThat(ctl("infra1", "member", "list").output())
        .contains(id + ", unstarted, , " + peer("infra3") + ", , true");

    start("infra3", "existing");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> ctl("infra0", "member", "list").output().contains(id + ", started, infra3, "));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> ctl("infra3", "get", "/before", "--consistency=s").output().contains("1"));

    Result promoted = ctl("infra0", "member", "promote", id);
    assertThat(promoted.exitCode()).as(promoted.output()).isZero();
    assertThat(ctl("infra2", "member", "list").output())
        .contains(id + ", started, infra3, ")
        .doesNotContain(", true\n");

    String founder = Long.toHexString(servers.get("infra0").member().memberId());
    Result removed = ctl("infra1", "member", "remove", founder);
    assertThat(removed.exitCode()).as(removed.output()).isZero();
    servers.remove("infra0").close();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> ctl("infra3", "put", "/after", "2").exitCode() == 0);
    assertThat(ctl("infra1", "member", "list").output().lines()).hasSize(3);
    assertThat(ctl("infra1", "get", "/after").output()).isEqualTo("/after\n2\n");

    Result unknown = ctl("infra1", "member", "remove", "abcdef");
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.output()).contains("member not found");
  }
}

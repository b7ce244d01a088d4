package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.raft.Role;
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
    startFounders();

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

  /**
   * Starts founders infra0..infra2 with {@code --initial-cluster-state new}, puts /before=1, and
   * waits until etcdctl lists none of them as unstarted.
   */
  private void startFounders() throws Exception {
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
  }

  private String hexId(String name) {
    return Long.toHexString(servers.get(name).member().memberId());
  }

  private Result ok(String name, String... args) throws Exception {
    Result r = ctl(name, args);
    assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isZero();
    return r;
  }

  @Test
  void memberUpdateMovesAMembersPeerUrlsAndTheClusterFollows() throws Exception {
    startFounders();
    // Move a follower: moving the leader's URL cuts the followers' answers to it until it is
    // restarted there, so a new election would race the next command (as it would with etcd).
    String movedName =
        List.of("infra2", "infra1", "infra0").stream()
            .filter(n -> servers.get(n).member().raftStatus().role() != Role.LEADER)
            .findFirst()
            .orElseThrow();
    String asker = movedName.equals("infra1") ? "infra2" : "infra1";
    String other =
        List.of("infra0", "infra1", "infra2").stream()
            .filter(n -> !n.equals(movedName) && !n.equals(asker))
            .findFirst()
            .orElseThrow();
    String id = hexId(movedName);
    long memberId = servers.get(movedName).member().memberId();

    Result taken = ctl(asker, "member", "update", id, "--peer-urls=" + peer(other));
    assertThat(taken.exitCode()).isNotZero();
    assertThat(taken.output()).contains("etcdserver: Peer URLs already exists");
    Result unknown = ctl(asker, "member", "update", "abcdef", "--peer-urls=http://127.0.0.1:1");
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.output()).contains("etcdserver: member not found");

    String moved = "http://127.0.0.1:" + FreePorts.next();
    Result updated = ok(asker, "member", "update", id, "--peer-urls=" + moved);
    assertThat(updated.output()).containsPattern("Member\\s+" + id + " updated in cluster");
    // Its own URLs again: allowed (only other members' URLs are taken).
    ok(other, "member", "update", id, "--peer-urls=" + moved);
    for (String n : List.of("infra0", "infra1", "infra2")) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  ctl(n, "member", "list")
                      .output()
                      .contains(", " + movedName + ", " + moved + ", "));
    }

    // As with etcd, the member is then restarted listening on its new URL, with its data dir.
    servers.remove(movedName).close();
    ports.get(movedName)[1] = java.net.URI.create(moved).getPort();
    start(movedName, "new");
    assertThat(servers.get(movedName).member().memberId()).isEqualTo(memberId);
    ok(other, "put", "/after-move", "2");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                ctl(movedName, "get", "/after-move", "--consistency=s")
                    .output()
                    .equals("/after-move\n2\n"));
    ok(movedName, "put", "/from-moved", "3");
    assertThat(ctl(other, "get", "/from-moved").output()).isEqualTo("/from-moved\n3\n");
    assertThat(ctl(other, "member", "list").output().lines()).hasSize(3);
  }

  @Test
  void aLearnerIsPromotedOnlyOnceItCaughtUpWithTheLeader() throws Exception {
    startFounders();
    ports.put("infra3", new int[] {FreePorts.next(), FreePorts.next()});
    Result added =
        ok("infra0", "member", "add", "infra3", "--peer-urls=" + peer("infra3"), "--learner");
    Matcher m = Pattern.compile("Member\\s+([0-9a-f]+) added").matcher(added.output());
    assertThat(m.find()).as(added.output()).isTrue();
    String learner = m.group(1);

    Result voter = ctl("infra1", "member", "promote", hexId("infra1"));
    assertThat(voter.exitCode()).isNotZero();
    assertThat(voter.output()).contains("etcdserver: can only promote a learner member\n");
    Result unknown = ctl("infra1", "member", "promote", "abcdef");
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.output()).contains("etcdserver: member not found");

    // Never started: nothing replicated to it. Asked of every member (followers forward).
    for (String n : List.of("infra0", "infra1", "infra2")) {
      Result behind = ctl(n, "member", "promote", learner);
      assertThat(behind.exitCode()).as(behind.output()).isNotZero();
      assertThat(behind.output())
          .contains("etcdserver: can only promote a learner member which is in sync with leader");
    }

    start("infra3", "existing");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> ctl("infra3", "get", "/before", "--consistency=s").output().contains("1"));
    // Stopped and left behind: the leader's match index for it stays where it was.
    servers.remove("infra3").close();
    for (int i = 0; i < 30; i++) {
      ok("infra0", "put", "/behind/" + i, "v");
    }
    Result stale = ctl("infra2", "member", "promote", learner);
    assertThat(stale.exitCode()).as(stale.output()).isNotZero();
    assertThat(stale.output()).contains("which is in sync with leader");

    start("infra3", "existing");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> ctl("infra3", "get", "/behind/29", "--consistency=s").output().contains("v"));
    // Its match index reaches the leader with its next append response.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ctl("infra2", "member", "promote", learner).exitCode() == 0);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ctl("infra0", "member", "list").output().contains(", started, infra3, "));
    assertThat(ctl("infra0", "member", "list").output())
        .contains(learner + ", started, infra3, ")
        .doesNotContain(", true\n");
  }
}

package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.api.etcdserverpb.MaintenanceGrpcClient;
import dev.kubelite.store.api.etcdserverpb.MoveLeaderRequest;
import dev.kubelite.store.mvcc.Put;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import dev.kubelite.store.testing.GrpcUnary;
import dev.kubelite.store.testing.LocalCluster;
import io.vertx.core.Vertx;
import io.vertx.grpc.client.GrpcClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Maintenance API on a three-member cluster (three store servers in this JVM) through the real
 * etcdctl 3.4: HashKV agrees across members, the NOSPACE alarm raised by one member stops writes on
 * all, {@code defrag --cluster}, and {@code move-leader} with etcd's errors.
 */
class MaintenanceClusterTest {
  private static final String NO_SPACE = "etcdserver: mvcc: database space exceeded";
  private static final Pattern HASH = Pattern.compile("\"hash\":(\\d+)");

  @TempDir Path dir;

  private LocalCluster cluster;

  /** Starts three members; member 0 gets {@code quota0} as its --quota-backend-bytes. */
  private void startCluster(long quota0) throws Exception {
    startMembers(quota0, 3);
    cluster.awaitAllPublished();
  }

  /** Starts the first {@code count} members of a three-member cluster. */
  private void startMembers(long quota0, int count) throws Exception {
    EtcdProcess.binary("etcdctl");
    cluster =
        LocalCluster.of(dir, "maint-cluster", 3)
            .tune((i, c) -> c.withQuotaBackendBytes(i == 0 ? quota0 : 0))
            .start(count);
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String endpoint(int member) {
    return cluster.endpoint(member);
  }

  private String allEndpoints() {
    return cluster.endpoints();
  }

  private Result ctl(int member, String... args) throws Exception {
    return EtcdProcess.Etcdctl.run(endpoint(member), args);
  }

  private Result ok(int member, String... args) throws Exception {
    Result r = ctl(member, args);
    assertThat(r.exitCode())
        .as("etcdctl (member %d) %s: %s", member, String.join(" ", args), r.output())
        .isZero();
    return r;
  }

  private Result okAll(String... args) throws Exception {
    Result r = EtcdProcess.Etcdctl.run(allEndpoints(), args);
    assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isZero();
    return r;
  }

  private String hex(int member) {
    return Long.toHexString(cluster.server(member).member().memberId());
  }

  /** HashKV of every member (at {@code rev}, 0 = current), in member order. */
  private List<Long> hashes(long rev) throws Exception {
    String out =
        okAll("endpoint", "hashkv", "--rev=" + rev, "-w", "json").output(); // one entry per member
    List<Long> hashes = new ArrayList<>();
    Matcher m = HASH.matcher(out);
    while (m.find()) {
      hashes.add(Long.parseLong(m.group(1)));
    }
    assertThat(hashes).as(out).hasSize(3);
    return hashes;
  }

  /** Maintenance.Hash of every member, over gRPC (etcdctl 3.4 has no command for it). */
  private List<Integer> wholeHashes() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      GrpcClient grpc = GrpcClient.client(vertx);
      List<Integer> out = new ArrayList<>();
      for (int port : cluster.clientPorts()) {
        var o =
            GrpcUnary.call(
                grpc,
                port,
                MaintenanceGrpcClient.Hash,
                dev.kubelite.store.api.etcdserverpb.HashRequest.getDefaultInstance());
        assertThat(o.error()).isEqualTo("OK");
        out.add(o.response().getHash());
      }
      return out;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private boolean allApplied() {
    long rev = cluster.server(0).member().mvcc().currentRevision();
    long applied = cluster.server(0).member().raftStatus().appliedIndex();
    return cluster.running().stream()
        .allMatch(
            s ->
                s.member().mvcc().currentRevision() == rev
                    && s.member().raftStatus().appliedIndex() == applied);
  }

  @Test
  void hashKvIsEqualAcrossMembersAndDiffersOnlyWhenStateDoes() throws Exception {
    startCluster(0);
    Random rng = new Random(7);
    for (int i = 0; i < 20; i++) {
      int via = rng.nextInt(3);
      if (rng.nextInt(4) == 0) {
        ok(via, "del", "k" + rng.nextInt(5));
      } else {
        ok(via, "put", "k" + rng.nextInt(5), "v" + i);
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(this::allApplied);
    List<Long> first = hashes(0);
    assertThat(new HashSet<>(first)).as("members with the same history").hasSize(1);
    assertThat(new HashSet<>(wholeHashes())).as("Hash of the whole backend").hasSize(1);
    long firstRev = cluster.server(0).member().mvcc().currentRevision();

    ok(1, "put", "later", "x");
    await().atMost(Duration.ofSeconds(10)).until(this::allApplied);
    assertThat(hashes(firstRev)).as("a past revision's hash stays put").isEqualTo(first);
    List<Long> second = hashes(0);
    assertThat(new HashSet<>(second)).hasSize(1);
    assertThat(second.get(0)).isNotEqualTo(first.get(0));

    long compactAt = firstRev - 1;
    ok(2, "compact", Long.toString(compactAt));
    await().atMost(Duration.ofSeconds(10)).until(this::allApplied);
    second = hashes(0);
    assertThat(new HashSet<>(second)).hasSize(1);
    assertThat(okAll("endpoint", "hashkv", "-w", "json").output())
        .contains("\"compact_revision\":" + compactAt);
    // At or below the compacted revision: etcd's error, from every member.
    Result compacted =
        EtcdProcess.Etcdctl.run(allEndpoints(), "endpoint", "hashkv", "--rev=" + compactAt);
    assertThat(compacted.exitCode()).isNotZero();
    assertThat(compacted.output()).contains("required revision has been compacted");

    // A member whose state diverges (a write applied behind Raft's back, as corruption would) is
    // told apart by its hash; the others still agree.
    StoreMember m2 = cluster.server(2).member();
    m2.mvcc()
        .apply(
            m2.mvcc().appliedIndex() + 1_000_000,
            Put.of("diverged".getBytes(StandardCharsets.UTF_8), new byte[] {1}));
    List<Long> third = hashes(0);
    assertThat(third.get(0)).isEqualTo(third.get(1)).isEqualTo(second.get(0));
    assertThat(third.get(2)).isNotEqualTo(third.get(0));
  }

  @Test
  void noSpaceRaisedByOneMemberStopsWritesOnAllUntilDisarmed() throws Exception {
    startCluster(64 * 1024);
    String big = "x".repeat(40_000);
    Result refused = null;
    for (int i = 0; i < 10 && refused == null; i++) {
      Result r = ctl(0, "put", "big" + i, big);
      if (r.exitCode() != 0) {
        refused = r;
      }
    }
    assertThat(refused).as("member 0's small quota is exceeded").isNotNull();
    assertThat(refused.output()).contains(NO_SPACE);
    String alarm =
        "memberID:"
            + Long.toUnsignedString(cluster.server(0).member().memberId())
            + " alarm:NOSPACE ";
    // The alarm went through Raft: every member knows it and refuses writes that add data.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ok(2, "alarm", "list").output().equals(alarm + "\n"));
    for (int i = 1; i < 3; i++) {
      Result put = ctl(i, "put", "small", "1");
      assertThat(put.exitCode()).isNotZero();
      assertThat(put.output()).contains(NO_SPACE);
    }
    assertThat(ok(1, "get", "big0", "--print-value-only").output()).isEqualTo(big + "\n");
    assertThat(ok(1, "del", "big0").output()).isEqualTo("1\n");
    String status = okAll("endpoint", "status").output();
    assertThat(status.lines()).hasSize(3).allSatisfy(l -> assertThat(l).endsWith(", " + alarm));

    // Any member can disarm it; member 1's own quota is the default, so it takes writes again.
    assertThat(ok(2, "alarm", "disarm").output()).isEqualTo(alarm + "\n");
    assertThat(ok(1, "put", "small", "1").output()).isEqualTo("OK\n");
    assertThat(ok(0, "alarm", "list").output()).isEmpty();

    // defrag --cluster defragments every member, reached by its client URL.
    String out = ok(0, "defrag", "--cluster").output();
    Set<String> done =
        out.lines()
            .map(l -> l.replaceAll("Finished defragmenting etcd member\\[(.*)\\]", "$1"))
            .collect(Collectors.toSet());
    assertThat(done)
        .containsExactlyInAnyOrder(
            "http://" + endpoint(0), "http://" + endpoint(1), "http://" + endpoint(2));
  }

  @Test
  void statusOfAMemberWithoutALeaderSaysSo() throws Exception {
    startMembers(0, 1); // one of three: no quorum, no leader
    String status = ok(0, "endpoint", "status", "-w", "json").output();
    assertThat(status).contains("\"errors\":[\"etcdserver: no leader\"]");
  }

  @Test
  void moveLeaderHandsOverLeadershipWithEtcdsErrors() throws Exception {
    startCluster(0);
    int old = cluster.leader();
    int target = (old + 1) % 3;
    assertThat(okAll("move-leader", hex(target)).output())
        .isEqualTo("Leadership transferred from " + hex(old) + " to " + hex(target) + "\n");
    // The call returns once the target leads; every member follows it soon after.
    assertThat(cluster.server(old).member().raftStatus().leader())
        .isEqualTo(cluster.server(target).member().memberId());
    await().atMost(Duration.ofSeconds(5)).until(() -> cluster.leader() == target);
    assertThat(ok(target, "endpoint", "status").output()).contains(", true, false, ");
    assertThat(ok(old, "put", "after", "move").output()).isEqualTo("OK\n");

    // To itself: nothing to do, as etcd.
    assertThat(okAll("move-leader", hex(target)).output())
        .isEqualTo("Leadership transferred from " + hex(target) + " to " + hex(target) + "\n");
    // Unknown member, and a learner: etcd's "bad leader transferee".
    Result unknown = EtcdProcess.Etcdctl.run(allEndpoints(), "move-leader", "abcdef");
    assertThat(unknown.exitCode()).isNotZero();
    assertThat(unknown.output()).contains("Error: etcdserver: bad leader transferee");
    Result added =
        ok(
            target,
            "member",
            "add",
            "learner",
            "--peer-urls=http://127.0.0.1:" + FreePorts.next(),
            "--learner");
    Matcher id = Pattern.compile("Member\\s+([0-9a-f]+) added").matcher(added.output());
    assertThat(id.find()).as(added.output()).isTrue();
    Result learner = EtcdProcess.Etcdctl.run(allEndpoints(), "move-leader", id.group(1));
    assertThat(learner.exitCode()).isNotZero();
    assertThat(learner.output()).contains("Error: etcdserver: bad leader transferee");
    assertThat(cluster.leader()).isEqualTo(target);

    // Only followers given: etcdctl itself finds no leader to send it to.
    int follower = (target + 1) % 3;
    Result noLeader = ctl(follower, "move-leader", hex(old));
    assertThat(noLeader.exitCode()).isNotZero();
    assertThat(noLeader.output()).contains("no leader endpoint given at");
    // Sent to a follower anyway (over gRPC): etcd's FAILED_PRECONDITION "not leader".
    Vertx vertx = Vertx.vertx();
    try {
      GrpcClient grpc = GrpcClient.client(vertx);
      var outcome =
          GrpcUnary.call(
              grpc,
              cluster.clientPort(follower),
              MaintenanceGrpcClient.MoveLeader,
              MoveLeaderRequest.newBuilder()
                  .setTargetID(cluster.server(old).member().memberId())
                  .build());
      assertThat(outcome.error()).isEqualTo("FAILED_PRECONDITION: etcdserver: not leader");
      grpc.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    assertThat(cluster.leader()).isEqualTo(target);
  }
}

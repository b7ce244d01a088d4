package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.raft.Role;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leases in a three-member cluster (three store servers in this JVM), driven by the real etcdctl:
 * renewals reaching a follower, and leases surviving the loss of the leader.
 */
class LeaseClusterTest {
  private static final Pattern GRANTED =
      Pattern.compile("lease ([0-9a-f]+) granted with TTL\\((\\d+)s\\)\n");
  private static final Pattern REMAINING = Pattern.compile("remaining\\((-?\\d+)s\\)");

  @TempDir Path dir;

  private LocalCluster cluster;

  @BeforeEach
  void start() throws Exception {
    EtcdProcess.binary("etcdctl");
    cluster = LocalCluster.of(dir, "lease-cluster", 3).start();
    // A leader, and every member knows every member's client URLs (published through Raft).
    cluster.awaitAllPublished();
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** etcdctl against one member (0, 1 or 2) only. */
  private EtcdProcess.Etcdctl ctl(int member) {
    return cluster.etcdctl(member);
  }

  private String grant(int member, long ttl) throws Exception {
    String out = ctl(member).ok("lease", "grant", Long.toString(ttl)).output();
    Matcher m = GRANTED.matcher(out);
    assertThat(m.matches()).as(out).isTrue();
    return m.group(1);
  }

  private long remaining(int member, String id) throws Exception {
    String out = ctl(member).ok("lease", "timetolive", id).output();
    Matcher m = REMAINING.matcher(out);
    assertThat(m.find()).as(out).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void keepAlivesSentToAFollowerRenewTheLeaseOnTheLeader() throws Exception {
    int follower = (cluster.leader() + 1) % 3;
    String id = grant(follower, 2);
    ctl(follower).ok("put", "k", "v", "--lease=" + id);
    // Only the follower is talked to, for three TTLs: it forwards renewals to the leader.
    LeaseEtcdctlTest.renewalsKeepItAlive(ctl(follower), id, "k", "v");
    assertThat(remaining(follower, id)).isBetween(0L, 2L);
    // Renewals stop: the leader expires it.
    await()
        .atMost(Duration.ofSeconds(2 + 3))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> ctl(follower).ok("get", "k").output().isEmpty());
    assertThat(ctl(follower).call("lease", "keep-alive", "--once", id).output())
        .contains("etcdserver: requested lease not found");
  }

  @Test
  void aLeaseSurvivesALeaderChangeWithItsTtlRefreshed() throws Exception {
    int old = cluster.leader();
    String id = grant(old, 5);
    ctl(old).ok("put", "k", "v", "--lease=" + id);
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> remaining(old, id) <= 3);

    cluster.stop(old);
    List<Integer> left = new ArrayList<>(List.of(0, 1, 2));
    left.remove(Integer.valueOf(old));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                left.stream().anyMatch(i -> cluster.member(i).raftStatus().role() == Role.LEADER));
    int other = left.get(0);

    // The new leader restarted the lease's clock: at least a full TTL is left, not what was left
    // on the old leader.
    assertThat(ctl(other).ok("lease", "timetolive", id, "--keys").output())
        .matches(
            "lease "
                + id
                + " granted with TTL\\(5s\\), remaining\\([4-6]s\\), attached keys\\(\\[k\\]\\)\n");
    assertThat(ctl(other).ok("get", "k", "--print-value-only").output()).isEqualTo("v\n");

    // Not renewed, it still expires: within election timeout + TTL + a margin.
    await()
        .atMost(Duration.ofSeconds(1 + 5 + 3))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> ctl(other).ok("get", "k").output().isEmpty());
    assertThat(ctl(other).ok("lease", "list").output()).isEqualTo("found 0 leases\n");
  }
}

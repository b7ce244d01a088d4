package dev.kubelite.store.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.LocalCluster;
import dev.kubelite.store.testing.LocalMember;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KvStore#status}: members, leader, per-member status and compact revision, from both
 * clients, against our store (one member and three) and a real etcd 3.4.
 */
class KvStoreStatusTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;

  private static <T> T join(CompletableFuture<T> f) throws Exception {
    return f.get(20, TimeUnit.SECONDS);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Writes a few keys, compacts at the revision of the second write, returns that revision. */
  private static long writeAndCompact(KvStore store) throws Exception {
    join(store.put(b("/status-test/a"), b("1")));
    long rev = join(store.put(b("/status-test/b"), b("2"))).revision();
    join(store.put(b("/status-test/c"), b("3")));
    join(store.compact(rev));
    return rev;
  }

  private static void assertSingleMemberLeads(StoreStatus s, long memberId, String name) {
    assertThat(s.members()).hasSize(1);
    StoreStatus.MemberStatus m = s.members().get(0);
    assertThat(m.id()).isEqualTo(memberId);
    assertThat(m.name()).isEqualTo(name);
    assertThat(m.learner()).isFalse();
    assertThat(m.error()).isNull();
    assertThat(m.status()).isNotNull();
    assertThat(m.status().leader()).isEqualTo(memberId);
    assertThat(m.status().errors()).isEmpty();
    assertThat(m.status().version()).startsWith("3.4");
    assertThat(m.status().dbSize()).isPositive();
    assertThat(s.leader()).isEqualTo(memberId);
    assertThat(s.answeredBy()).isEqualTo(memberId);
    assertThat(s.raftTerm()).isPositive();
    assertThat(s.raftIndex()).isPositive();
    assertThat(s.clusterId()).isNotZero();
  }

  @Test
  void oneMemberOfOursThroughBothClients() throws Exception {
    try (LocalMember member = LocalMember.start(dir.resolve("ours"));
        KvStore remote = RemoteKvStore.connect(List.of(member.endpoint()));
        KvStore embedded = EmbeddedKvStore.of(member.server())) {
      await().atMost(WAIT).ignoreExceptions().until(() -> join(remote.currentRevision()) >= 1);
      long id = member.server().member().memberId();
      for (KvStore store : List.of(remote, embedded)) {
        StoreStatus s = join(store.status());
        assertSingleMemberLeads(s, id, member.config().name());
        assertThat(s.compactRevision()).isZero();
        assertThat(s.members().get(0).clientUrls()).containsExactly(member.clientUrl());
        assertThat(s.members().get(0).peerUrls()).containsExactly(member.peerUrl());
      }
      long compacted = writeAndCompact(remote);
      long current = join(remote.currentRevision());
      for (KvStore store : List.of(remote, embedded)) {
        StoreStatus s = join(store.status());
        assertThat(s.compactRevision()).isEqualTo(compacted);
        assertThat(s.revision()).isEqualTo(current);
      }
    }
  }

  @Test
  void realEtcd() throws Exception {
    try (EtcdProcess etcd = EtcdProcess.start(dir, "etcd1", "status-test");
        KvStore store = RemoteKvStore.connect(List.of("127.0.0.1:" + etcd.clientPort))) {
      await().atMost(WAIT).ignoreExceptions().until(() -> join(store.currentRevision()) >= 1);
      StoreStatus s = join(store.status());
      assertSingleMemberLeads(s, s.answeredBy(), "etcd1");
      assertThat(s.compactRevision()).isZero();
      assertThat(s.members().get(0).clientUrls()).containsExactly(etcd.clientUrl());
      long compacted = writeAndCompact(store);
      StoreStatus after = join(store.status());
      assertThat(after.compactRevision()).isEqualTo(compacted);
      assertThat(after.revision()).isEqualTo(join(store.currentRevision()));
    }
  }

  @Test
  void threeMembersAndOneStopped() throws Exception {
    try (LocalCluster cluster = LocalCluster.of(dir, "status-test", 3).start()) {
      cluster.awaitAllPublished();
      int leader = cluster.awaitLeader();
      long leaderId = cluster.member(leader).memberId();
      int follower = (leader + 1) % 3;
      try (KvStore remote = RemoteKvStore.connect(List.of(cluster.endpoint(follower)));
          KvStore embedded = EmbeddedKvStore.of(cluster.server(follower))) {
        for (KvStore store : List.of(remote, embedded)) {
          StoreStatus s = join(store.status());
          assertThat(s.leader()).isEqualTo(leaderId);
          assertThat(s.answeredBy()).isEqualTo(cluster.member(follower).memberId());
          assertThat(s.members())
              .extracting(StoreStatus.MemberStatus::name)
              .containsExactly("m0", "m1", "m2");
          for (StoreStatus.MemberStatus m : s.members()) {
            assertThat(m.error()).as(m.name()).isNull();
            assertThat(m.status().memberId()).isEqualTo(m.id());
            assertThat(m.status().leader()).isEqualTo(leaderId);
            assertThat(m.status().endpoint()).isEqualTo(m.clientUrls().get(0));
          }
        }
        int stopped = (leader + 2) % 3;
        String stoppedName = cluster.name(stopped);
        cluster.stop(stopped);
        for (KvStore store : List.of(remote, embedded)) {
          StoreStatus s = join(store.status());
          assertThat(s.members()).hasSize(3);
          for (StoreStatus.MemberStatus m : s.members()) {
            if (m.name().equals(stoppedName)) {
              assertThat(m.status()).isNull();
              assertThat(m.error()).contains("Status at http://127.0.0.1:");
            } else {
              assertThat(m.error()).as(m.name()).isNull();
            }
          }
          assertThat(s.leader()).isEqualTo(leaderId);
        }
      }
    }
  }
}

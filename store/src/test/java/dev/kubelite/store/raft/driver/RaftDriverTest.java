package dev.kubelite.store.raft.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.raft.Bootstrap;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.ProposeResult;
import dev.kubelite.store.raft.RaftConfig;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.transport.MessageCodec;
import dev.kubelite.store.raft.transport.PeerTransport;
import dev.kubelite.store.raft.wal.SegmentedRaftLog;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three members on real threads, real disks (fsync on) and the binary message codec, wired either
 * in-process or over TCP on 127.0.0.1 ({@link PeerTransport}): elections, concurrent proposals,
 * linearizable reads on followers, losing the leader, and restarting a member from its data
 * directory.
 */
class RaftDriverTest {
  /** A write whose apply throws an Error, as an exhausted heap would on the driver thread. */
  private static final String POISON = "poison";

  @TempDir Path dir;

  private final Map<Long, Member> members = new ConcurrentHashMap<>();
  private final Vertx vertx = Vertx.vertx();
  private boolean overTcp;
  private RaftDriver.Options options = new RaftDriver.Options(Duration.ofMillis(20), 200, 50);

  /** A member: its driver, its log, and a state machine that records applied writes in order. */
  private final class Member implements RaftDriver.StateMachine {
    final long id;
    final SegmentedRaftLog log;
    final RaftDriver driver;
    final List<String> applied = Collections.synchronizedList(new ArrayList<>());
    final PeerTransport tcp;
    final int port;

    Member(long id) throws Exception {
      this.id = id;
      this.log = SegmentedRaftLog.open(dir.resolve("member-" + id), 1 << 20);
      RaftConfig config = RaftConfig.builder(id).electionTicks(10).randomSeed(id).build();
      this.tcp = overTcp ? new PeerTransport(vertx, id) : null;
      RaftDriver.Transport transport = overTcp ? tcp : m -> deliver(m);
      this.driver = new RaftDriver(config, log, this, transport, options);
      if (overTcp) {
        tcp.sink(
            new PeerTransport.Sink() {
              @Override
              public void receive(Message m) {
                driver.receive(m);
              }

              @Override
              public void reportUnreachable(long peer) {
                driver.reportUnreachable(peer);
              }

              @Override
              public void reportSnapshot(long peer, boolean success) {
                driver.reportSnapshot(peer, success);
              }
            });
        port =
            tcp.listen("127.0.0.1", 0)
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
      } else {
        port = 0;
      }
    }

    @Override
    public void apply(List<Entry> entries) {
      for (Entry e : entries) {
        if (e.type() == Entry.Type.NORMAL && e.data().length > 0) {
          String write = new String(e.data(), StandardCharsets.UTF_8);
          if (write.equals(POISON)) {
            throw new OutOfMemoryError("simulated: applying " + POISON);
          }
          applied.add(write);
        }
      }
    }

    @Override
    public void restore(Snapshot snapshot) {
      applied.clear();
      String image = new String(snapshot.data(), StandardCharsets.UTF_8);
      if (!image.isEmpty()) {
        applied.addAll(List.of(image.split("\n")));
      }
    }

    @Override
    public java.util.concurrent.CompletableFuture<byte[]> prepareSnapshot(long index) {
      synchronized (applied) {
        return java.util.concurrent.CompletableFuture.completedFuture(
            String.join("\n", applied).getBytes(StandardCharsets.UTF_8));
      }
    }

    @Override
    public long durableAppliedIndex() {
      return 0; // kept in memory only: rebuilt from snapshot + log on restart
    }

    void stop() {
      driver.close();
      log.close();
      if (tcp != null) {
        tcp.close();
      }
    }
  }

  private void deliver(Message m) {
    Member to = members.get(m.to());
    if (to != null) {
      // Through the wire format, as between processes.
      to.driver.receive(MessageCodec.decode(MessageCodec.encode(m)));
    }
  }

  private void startMember(long id) throws Exception {
    Member m = new Member(id);
    members.put(id, m);
    if (overTcp) {
      // Everyone learns everyone's (possibly new) address, as the store does from membership.
      for (Member a : members.values()) {
        for (Member b : members.values()) {
          if (a != b) {
            a.tcp.addPeer(b.id, SocketAddress.inetSocketAddress(b.port, "127.0.0.1"));
          }
        }
      }
    }
    m.driver.start();
  }

  private Member awaitLeader() {
    Member[] leader = new Member[1];
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              for (Member m : members.values()) {
                if (m.driver.status().role() == Role.LEADER) {
                  leader[0] = m;
                  return true;
                }
              }
              return false;
            });
    return leader[0];
  }

  @AfterEach
  void stopAll() throws Exception {
    members.values().forEach(Member::stop);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void anErrorOnTheDriverThreadStopsTheMemberAndLaterCallsFailAtOnce() throws Exception {
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir.resolve("member-1"))) {
      Bootstrap.initialize(log, List.of(1L));
    }
    startMember(1);
    Member m = awaitLeader();
    assertThat(m.driver.propose(bytes("w1")).get(5, TimeUnit.SECONDS))
        .isEqualTo(ProposeResult.ACCEPTED);
    await().atMost(Duration.ofSeconds(5)).until(() -> m.applied.contains("w1"));

    m.driver.propose(bytes(POISON));

    // Before, an Error ended the thread with the member still "running": every later proposal
    // and read waited forever (the API server answered 504 after its timeout, again and again).
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> m.driver.propose(bytes("w2")).get(5, TimeUnit.SECONDS))
                    .hasMessageContaining("is stopped"));
    assertThatThrownBy(() -> m.driver.readIndex().get(5, TimeUnit.SECONDS))
        .hasMessageContaining("is stopped");
    assertThat(m.applied).containsExactly("w1");
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "over TCP: {0}")
  @ValueSource(booleans = {false, true})
  void clusterReplicatesServesLinearizableReadsAndSurvivesLosingTheLeader(boolean tcp)
      throws Exception {
    overTcp = tcp;
    for (long id = 1; id <= 3; id++) {
      try (SegmentedRaftLog log = SegmentedRaftLog.open(dir.resolve("member-" + id))) {
        Bootstrap.initialize(log, List.of(1L, 2L, 3L));
      }
    }
    for (long id = 1; id <= 3; id++) {
      startMember(id);
    }
    Member leader = awaitLeader();

    // Many concurrent proposals: all accepted, all applied everywhere, in one order.
    List<CompletableFuture<ProposeResult>> proposals = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      proposals.add(leader.driver.propose(("w" + i).getBytes(StandardCharsets.UTF_8)));
    }
    for (CompletableFuture<ProposeResult> p : proposals) {
      assertThat(p.get(5, TimeUnit.SECONDS)).isEqualTo(ProposeResult.ACCEPTED);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> allApplied(500));
    assertThat(members.get(1L).applied).isEqualTo(members.get(2L).applied);
    assertThat(members.get(2L).applied).isEqualTo(members.get(3L).applied);

    // A linearizable read on a follower sees every write acknowledged before it.
    Member follower = members.values().stream().filter(m -> m != leader).findFirst().orElseThrow();
    leader.driver.propose("latest".getBytes(StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> leader.applied.contains("latest"));
    follower.driver.readIndex().get(5, TimeUnit.SECONDS);
    assertThat(follower.applied).contains("latest");

    // Lose the leader: the others elect a new one and keep committing.
    leader.stop();
    members.remove(leader.id);
    Member next = awaitLeader();
    assertThat(next.id).isNotEqualTo(leader.id);
    assertThat(next.driver.propose("after-failover".getBytes()).get(5, TimeUnit.SECONDS))
        .isEqualTo(ProposeResult.ACCEPTED);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> members.values().stream().allMatch(m -> m.applied.contains("after-failover")));

    // The old leader restarts from its directory alone and catches up (past snapshots too).
    startMember(leader.id);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> members.get(leader.id).applied.contains("after-failover"));
    assertThat(members.get(leader.id).applied).isEqualTo(next.applied);
  }

  private boolean allApplied(int n) {
    return members.values().stream().allMatch(m -> m.applied.size() >= n);
  }

  @Test
  void aSnapshotIsTakenOnceEnoughEntryBytesWereAppliedEvenBelowTheEntryCount() throws Exception {
    options = new RaftDriver.Options(Duration.ofMillis(20), 1_000_000, 5, 16 * 1024);
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir.resolve("member-1"))) {
      Bootstrap.initialize(log, List.of(1L));
    }
    startMember(1);
    Member m = awaitLeader();
    byte[] value = new byte[1024];
    java.util.Arrays.fill(value, (byte) 'v');
    for (int i = 0; i < 20; i++) {
      m.driver.propose(value).get(5, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> m.applied.size() >= 20);
    long applied = m.driver.status().appliedIndex();
    members.remove(1L);
    m.stop();
    // 20 KiB applied: the 16 KiB cap, not the entry count, made a snapshot, once, after 16 KiB.
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir.resolve("member-1"))) {
      assertThat(log.snapshot().index()).isBetween(16L, applied);
      assertThat(new String(log.snapshot().data(), StandardCharsets.UTF_8).split("\n"))
          .hasSizeGreaterThanOrEqualTo(16);
    }
  }

  @Test
  void callsOnAStoppedMemberFailInsteadOfHanging() throws Exception {
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir.resolve("member-1"))) {
      Bootstrap.initialize(log, List.of(1L));
    }
    startMember(1);
    awaitLeader();
    Member m = members.remove(1L);
    m.stop();
    assertThatThrownBy(() -> m.driver.propose("late".getBytes()).get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IllegalStateException.class)
        .hasMessageContaining("stopped");
    assertThatThrownBy(() -> m.driver.readIndex().get(5, TimeUnit.SECONDS))
        .hasMessageContaining("stopped");
    m.driver.receive(Message.builder(dev.kubelite.store.raft.MessageType.HEARTBEAT).build());
  }
}

package dev.kubelite.store.raft.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.raft.Bootstrap;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.RaftConfig;
import dev.kubelite.store.raft.RaftNode;
import dev.kubelite.store.raft.Ready;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.sim.SafetyChecker;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consensus core on the real durable log: three nodes in one thread, each on its own {@link
 * SegmentedRaftLog} directory, with crashes that throw away everything in memory and restart the
 * node from its directory alone. Every write the cluster acknowledged must survive, all nodes must
 * end up applying the same sequence, and the safety checker watches throughout.
 */
class DurableClusterTest {
  @TempDir Path dir;

  private final Map<Long, SegmentedRaftLog> logs = new TreeMap<>();
  private final Map<Long, RaftNode> nodes = new TreeMap<>();
  private final Map<Long, List<String>> applied = new TreeMap<>();
  private final Map<Long, Long> appliedIndex = new TreeMap<>();
  private final ArrayDeque<Message> network = new ArrayDeque<>();
  private final SafetyChecker checker = new SafetyChecker();
  private final Set<String> acknowledged = new LinkedHashSet<>();
  private final Random rng = new Random(20261121);

  @Test
  void acknowledgedWritesSurviveCrashesAndNodesConverge() {
    List<Long> ids = List.of(1L, 2L, 3L);
    for (long id : ids) {
      SegmentedRaftLog log = SegmentedRaftLog.open(dir.resolve("node-" + id), 16 * 1024);
      Bootstrap.initialize(log, ids);
      log.close();
      start(id);
    }
    int written = 0;
    for (int round = 0; round < 400; round++) {
      for (RaftNode n : nodes.values()) {
        n.tick();
      }
      drive();
      RaftNode leader = leader();
      if (leader != null) {
        for (int i = 0; i < 1 + rng.nextInt(5); i++) {
          leader.propose(("w" + written++).getBytes());
        }
        drive();
      }
      if (rng.nextInt(20) == 0) {
        long victim = ids.get(rng.nextInt(ids.size()));
        crashAndRestart(victim);
      }
    }
    for (int i = 0; i < 60; i++) {
      for (RaftNode n : nodes.values()) {
        n.tick();
      }
      drive();
    }
    assertThat(acknowledged).hasSizeGreaterThan(200);
    for (long id : ids) {
      // Restart everyone from disk one last time: what remains is only what was durable.
      crashAndRestart(id);
    }
    for (int i = 0; i < 60; i++) {
      for (RaftNode n : nodes.values()) {
        n.tick();
      }
      drive();
    }
    long commit = leader().commitIndex();
    for (long id : ids) {
      assertThat(appliedIndex.get(id)).isEqualTo(commit);
      assertThat(applied.get(id)).containsAll(acknowledged);
    }
    assertThat(applied.get(1L)).isEqualTo(applied.get(2L)).isEqualTo(applied.get(3L));
    logs.values().forEach(SegmentedRaftLog::close);
  }

  private void start(long id) {
    SegmentedRaftLog log = SegmentedRaftLog.open(dir.resolve("node-" + id), 16 * 1024);
    logs.put(id, log);
    RaftConfig config =
        RaftConfig.builder(id)
            .maxSizePerMessage(8 * 1024)
            .maxInflightMessages(16)
            .randomSeed(rng.nextLong())
            .build();
    nodes.put(id, new RaftNode(config, log));
    // The state machine restarts from the snapshot; the log replays the rest.
    Snapshot s = log.snapshot();
    List<String> state = new ArrayList<>();
    if (s.data().length > 0) {
      for (String w : new String(s.data()).split(",")) {
        state.add(w);
      }
    }
    applied.put(id, state);
    appliedIndex.put(id, s.index());
  }

  private void crashAndRestart(long id) {
    logs.remove(id).close();
    nodes.remove(id);
    network.removeIf(m -> m.to() == id);
    start(id);
  }

  private RaftNode leader() {
    RaftNode best = null;
    for (RaftNode n : nodes.values()) {
      if (n.role() == Role.LEADER && (best == null || n.term() > best.term())) {
        best = n;
      }
    }
    return best;
  }

  private void drive() {
    boolean progress = true;
    while (progress) {
      progress = false;
      for (Map.Entry<Long, RaftNode> e : nodes.entrySet()) {
        RaftNode n = e.getValue();
        if (n.hasReady()) {
          progress = true;
          handle(e.getKey(), n, n.ready());
        }
      }
      Message m = network.poll();
      if (m != null) {
        progress = true;
        if (rng.nextInt(30) != 0) { // occasional loss
          RaftNode to = nodes.get(m.to());
          if (to != null) {
            to.step(m);
          }
        }
      }
    }
  }

  private void handle(long id, RaftNode n, Ready rd) {
    SegmentedRaftLog log = logs.get(id);
    log.save(rd.hardState(), rd.entries(), rd.snapshot());
    verify(checker.onPersist(id, rd.entries(), log));
    for (Message m : rd.messages()) {
      verify(checker.onSend(m, log));
      network.add(m);
    }
    List<String> state = applied.get(id);
    if (rd.snapshot() != null) {
      state.clear();
      if (rd.snapshot().data().length > 0) {
        state.addAll(List.of(new String(rd.snapshot().data()).split(",")));
      }
      appliedIndex.put(id, rd.snapshot().index());
    }
    for (Entry e : rd.committedEntries()) {
      verify(checker.onCommitted(id, e.index(), e.term(), n.term()));
      if (e.type() == Entry.Type.NORMAL && e.data().length > 0) {
        String w = new String(e.data());
        state.add(w);
        if (n.role() == Role.LEADER) {
          acknowledged.add(w); // the leader applied it: a client would be told it succeeded
        }
      }
      appliedIndex.put(id, e.index());
    }
    n.advance(rd);
    verify(checker.onRole(n));
    long at = appliedIndex.get(id);
    if (at - log.snapshot().index() >= 50) {
      log.compact(
          new Snapshot(at, n.termAt(at), n.confState(), String.join(",", state).getBytes()),
          Math.max(log.firstIndex() - 1, at - 10));
    }
  }

  private static void verify(String violation) {
    if (violation != null) {
      throw new AssertionError("safety violation: " + violation);
    }
  }
}

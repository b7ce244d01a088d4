package dev.kubelite.store.raft;

import dev.kubelite.store.raft.sim.SafetyChecker;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A hand-driven cluster for scripted scenarios: messages queue up and are delivered only when the
 * test says so, so each test controls the exact interleaving it wants to exercise.
 */
final class TestCluster {
  final Map<Long, RaftNode> nodes = new TreeMap<>();
  final Map<Long, MemoryRaftStorage> disks = new TreeMap<>();
  final Map<Long, List<Entry>> applied = new TreeMap<>();
  final Map<Long, List<ReadState>> readStates = new TreeMap<>();
  final ArrayDeque<Message> queue = new ArrayDeque<>();
  final Set<Long> isolated = new HashSet<>();
  final List<Ready> readies = new ArrayList<>();
  Predicate<Message> dropFilter = m -> false;
  int delivered;

  /** Bytes of entries per APPEND; 1 sends exactly one entry per message. */
  long maxSizePerMessage = 1 << 20;

  /** Raft's safety invariants, checked on every Ready; a violation fails the test at once. */
  final SafetyChecker checker = new SafetyChecker();

  static TestCluster of(int n) {
    TestCluster c = new TestCluster();
    List<Long> ids = new ArrayList<>();
    for (long id = 1; id <= n; id++) {
      ids.add(id);
    }
    for (long id : ids) {
      MemoryRaftStorage disk = new MemoryRaftStorage();
      Bootstrap.initialize(disk, ids);
      c.add(id, disk);
    }
    c.settle();
    return c;
  }

  RaftConfig configFor(long id, Set<RaftConfig.InjectedBug> bugs) {
    return RaftConfig.builder(id)
        .maxSizePerMessage(maxSizePerMessage)
        .maxInflightMessages(64)
        .randomSeed(id * 7919)
        .injectedBugs(bugs)
        .build();
  }

  void add(long id, MemoryRaftStorage disk) {
    add(id, disk, Set.of());
  }

  void add(long id, MemoryRaftStorage disk, Set<RaftConfig.InjectedBug> bugs) {
    disks.put(id, disk);
    nodes.put(id, new RaftNode(configFor(id, bugs), disk));
    applied.put(id, new ArrayList<>());
    readStates.put(id, new ArrayList<>());
  }

  RaftNode node(long id) {
    return nodes.get(id);
  }

  /** Runs every node's Ready (persist, send to the queue, apply) until none has work. */
  void settle() {
    boolean any = true;
    while (any) {
      any = false;
      for (Map.Entry<Long, RaftNode> e : nodes.entrySet()) {
        RaftNode n = e.getValue();
        if (n.hasReady()) {
          any = true;
          Ready rd = n.ready();
          readies.add(rd);
          MemoryRaftStorage disk = disks.get(e.getKey());
          disk.save(rd.hardState(), rd.entries(), rd.snapshot());
          verify(checker.onPersist(n.id(), rd.entries(), disk));
          for (Message m : rd.messages()) {
            verify(checker.onSend(m, disk));
          }
          queue.addAll(rd.messages());
          for (Entry committed : rd.committedEntries()) {
            verify(checker.onCommitted(n.id(), committed.index(), committed.term(), n.term()));
          }
          applied.get(e.getKey()).addAll(rd.committedEntries());
          readStates.get(e.getKey()).addAll(rd.readStates());
          n.advance(rd);
          verify(checker.onRole(n));
        }
      }
    }
  }

  private static void verify(String violation) {
    if (violation != null) {
      throw new AssertionError("safety violation: " + violation);
    }
  }

  /** Delivers queued messages (and their consequences) until the network is quiet. */
  void stabilize() {
    settle();
    while (!queue.isEmpty()) {
      Message m = queue.poll();
      RaftNode to = nodes.get(m.to());
      if (to == null
          || isolated.contains(m.to())
          || isolated.contains(m.from())
          || dropFilter.test(m)) {
        continue;
      }
      delivered++;
      to.step(m);
      settle();
    }
  }

  void tick(long id, int times) {
    for (int i = 0; i < times; i++) {
      nodes.get(id).tick();
      stabilize();
    }
  }

  void tickAll(int times) {
    for (int i = 0; i < times; i++) {
      for (RaftNode n : nodes.values()) {
        n.tick();
      }
      stabilize();
    }
  }

  void elect(long id) {
    nodes.get(id).campaign();
    stabilize();
  }

  long leader() {
    long leader = RaftNode.NONE;
    for (RaftNode n : nodes.values()) {
      if (n.role() == Role.LEADER && !isolated.contains(n.id())) {
        leader = n.id();
      }
    }
    return leader;
  }

  List<String> appliedData(long id) {
    List<String> out = new ArrayList<>();
    for (Entry e : applied.get(id)) {
      if (e.type() == Entry.Type.NORMAL && e.data().length > 0) {
        out.add(new String(e.data()));
      }
    }
    return out;
  }
}

package dev.kubelite.store.raft.sim;

import dev.kubelite.store.raft.Bootstrap;
import dev.kubelite.store.raft.ConfChange;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.MemoryRaftStorage;
import dev.kubelite.store.raft.Message;
import dev.kubelite.store.raft.MessageType;
import dev.kubelite.store.raft.ProposeResult;
import dev.kubelite.store.raft.RaftConfig;
import dev.kubelite.store.raft.RaftNode;
import dev.kubelite.store.raft.ReadState;
import dev.kubelite.store.raft.Ready;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.SoftState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A whole Raft cluster in one thread, driven by one seeded PRNG. The network delays, drops,
 * duplicates and reorders messages and can be partitioned (also one-way); nodes crash (losing all
 * that was not persisted, sometimes in the middle of persisting a batch) and restart; members are
 * added, promoted and removed and leadership moves — all while clients write and read a key-value
 * register. Safety is checked after every step ({@link SafetyChecker}); at the end the client
 * history is checked for linearizability, and after faults heal the cluster must make progress
 * within a bounded number of ticks.
 */
public final class Simulation {
  /** Time advances in units; a tick is this many units, so message delays are finer than ticks. */
  static final int UNITS_PER_TICK = 10;

  private static final int ELECTION_TICKS = 10;
  private static final int SNAPSHOT_EVERY = 40;
  private static final int KEEP_AFTER_SNAPSHOT = 10;
  private static final int CLIENT_RETRY_TICKS = 25;
  private static final int CLIENT_GIVE_UP_TICKS = 120;
  private static final String[] KEYS = {"a", "b", "c"};

  private final SimConfig config;
  private final Random rng;
  private final SafetyChecker checker = new SafetyChecker();
  private final TreeMap<Long, SimNode> nodes = new TreeMap<>();
  private final PriorityQueue<InFlight> network = new PriorityQueue<>();
  private final Set<Long> blockedLinks = new HashSet<>();
  private final List<SimClient> clients = new ArrayList<>();
  private final Set<Long> removedMembers = new java.util.TreeSet<>();

  /** Transport feedback (snapshot sent or not) for senders, delivered after their Ready is done. */
  private final ArrayDeque<Runnable> transportReports = new ArrayDeque<>();

  private final List<HistoryEvent> history = new ArrayList<>();
  private final ArrayDeque<String> recentEvents = new ArrayDeque<>();
  private final Consumer<String> trace;

  private long now;
  private long tick;
  private long messageSeq;
  private long eventClock;
  private long nextNodeId;
  private boolean faultsActive = true;
  private double dropRate;
  private double duplicateRate;
  private int maxDelayUnits = UNITS_PER_TICK;
  private final SimStats stats = new SimStats();

  public Simulation(SimConfig config, Consumer<String> trace) {
    this.config = config;
    this.rng = new Random(config.seed());
    this.trace = trace;
  }

  /** Runs the whole scenario; throws {@link SimulationFailure} on any violation. */
  public SimResult run() {
    List<Long> founders = new ArrayList<>();
    for (long id = 1; id <= config.nodes(); id++) {
      founders.add(id);
    }
    nextNodeId = config.nodes() + 1;
    for (long id : founders) {
      SimNode n = new SimNode(id);
      Bootstrap.initialize(n.disk, founders);
      nodes.put(id, n);
      start(n);
    }
    for (int c = 0; c < config.clients(); c++) {
      clients.add(new SimClient(c));
    }

    for (int i = 0; i < config.faultTicks(); i++) {
      runTick();
    }
    healEverything();
    long healedAt = tick;
    long livenessDeadline = tick + config.healTicks();
    while (!converged()) {
      if (tick >= livenessDeadline) {
        fail(
            "liveness: "
                + (tick - healedAt)
                + " ticks after all faults healed the cluster has not converged: "
                + livenessReport());
      }
      runTick();
    }
    long recoveryTicks = tick - healedAt;

    List<HistoryEvent> finalHistory = new ArrayList<>(history);
    for (SimClient c : clients) {
      if (c.op != null && c.op.isWrite()) {
        finalHistory.add(c.op.pending());
      }
    }
    String lin = HistoryCheck.check(finalHistory);
    if (lin != null) {
      fail("linearizability: " + lin);
    }
    stats.recoveryTicks = recoveryTicks;
    stats.historyOps = finalHistory.size();
    stats.ticks = tick;
    return new SimResult(config, stats);
  }

  // ---------------------------------------------------------------------------------------------
  // Time
  // ---------------------------------------------------------------------------------------------

  private void runTick() {
    for (int u = 0; u < UNITS_PER_TICK; u++) {
      now++;
      while (!network.isEmpty() && network.peek().deliverAt <= now) {
        deliver(network.poll());
        processReadies();
      }
    }
    tick++;
    resumePausedNodes(false);
    for (SimNode n : nodes.values()) {
      // Clocks drift: now and then a node misses a tick.
      if (n.running() && !(faultsActive && rng.nextInt(50) == 0)) {
        guard(n, () -> n.raft.tick());
      }
    }
    processReadies();
    if (faultsActive) {
      maybeInjectFault();
      processReadies();
    }
    for (SimClient c : clients) {
      driveClient(c);
    }
    processReadies();
  }

  private void processReadies() {
    boolean any = true;
    while (any) {
      any = false;
      while (!transportReports.isEmpty()) {
        transportReports.poll().run();
      }
      for (SimNode n : new ArrayList<>(nodes.values())) {
        if (n.running() && n.raft.hasReady()) {
          processReady(n);
          any = true;
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // One node's driver: exactly what a real driver does with a Ready, in the contract's order.
  // ---------------------------------------------------------------------------------------------

  private void processReady(SimNode n) {
    Ready rd = n.raft.ready();
    if (faultsActive && rng.nextInt(400) == 0 && !rd.entries().isEmpty()) {
      // Crash while persisting: a prefix of the batch made it to disk, the rest (and the hard
      // state, written after the entries) did not; nothing was sent or applied.
      int kept = rng.nextInt(rd.entries().size());
      n.disk.save(null, rd.entries().subList(0, kept), rd.snapshot());
      record(
          n.id, "crashed while persisting (" + kept + "/" + rd.entries().size() + " entries kept)");
      crash(n);
      return;
    }
    n.disk.save(rd.hardState(), rd.entries(), rd.snapshot());
    check(checker.onPersist(n.id, rd.entries(), n.disk));
    for (Message m : rd.messages()) {
      check(checker.onSend(m, n.disk));
      send(m);
    }
    if (rd.snapshot() != null) {
      n.restoreStateMachine(rd.snapshot());
      record(n.id, "installed snapshot at " + rd.snapshot().index());
    }
    for (Entry e : rd.committedEntries()) {
      check(checker.onCommitted(n.id, e.index(), e.term(), n.raft.term()));
      apply(n, e);
    }
    for (ReadState rs : rd.readStates()) {
      n.readIndexes.put(new String(rs.context(), StandardCharsets.UTF_8), rs.index());
    }
    SoftState soft = rd.softState();
    n.raft.advance(rd);
    if (soft != null) {
      record(n.id, "now " + soft.role() + " term " + n.raft.term() + " leader " + soft.leader());
    }
    check(checker.onRole(n.raft));
    observeCommit(n);
    n.maybeSnapshot();
    serveReads(n);
    decommissionRemovedMembers();
  }

  private void observeCommit(SimNode n) {
    long commit = n.raft.commitIndex();
    for (long i = Math.max(n.observedCommit + 1, n.disk.firstIndex()); i <= commit; i++) {
      long t = n.raft.termAt(i);
      if (t >= 0) {
        check(checker.onCommitted(n.id, i, t, n.raft.term()));
      }
    }
    n.observedCommit = Math.max(n.observedCommit, commit);
  }

  private void apply(SimNode n, Entry e) {
    if (e.index() != n.lastApplied + 1) {
      fail(
          "state machine safety: node "
              + n.id
              + " applied index "
              + e.index()
              + " after "
              + n.lastApplied);
    }
    n.lastApplied = e.index();
    if (e.type() == Entry.Type.CONF_CHANGE) {
      ConfChange cc = ConfChange.decode(e.data());
      if (cc.type() == ConfChange.Type.REMOVE_NODE) {
        removedMembers.add(cc.nodeId());
      }
      record(n.id, "applied " + cc + " at " + e.index());
      return;
    }
    if (e.data().length == 0) {
      return;
    }
    Put put = Put.decode(e.data());
    Long last = n.lastOpByClient.get(put.client);
    if (last == null || put.op > last) {
      n.kv.put(put.key, put.value);
      n.lastOpByClient.put(put.client, put.op);
    }
    SimClient c = clients.get(put.client);
    if (c.op != null && c.op.op == put.op && c.op.isWrite() && c.op.target == n.id) {
      complete(c, c.op.completed(nextEventTime(), null));
    }
  }

  private void serveReads(SimNode n) {
    for (SimClient c : clients) {
      SimClient.Op op = c.op;
      if (op == null || op.isWrite() || op.target != n.id) {
        continue;
      }
      Long index = n.readIndexes.get(op.context());
      if (index != null && n.lastApplied >= index) {
        SimNode newest = currentLeader();
        if (newest != null && newest != n && n.raft.role() == Role.LEADER) {
          stats.readsByDeposedLeaders++;
        }
        n.readIndexes.remove(op.context());
        complete(c, op.completed(nextEventTime(), n.kv.get(op.key)));
      }
    }
  }

  private void complete(SimClient c, HistoryEvent event) {
    history.add(event);
    if (c.op.mustFinish) {
      c.finishedAfterHeal++;
    }
    c.op = null;
  }

  /** Once a removal is applied anywhere it is committed: the operator stops the removed member. */
  private void decommissionRemovedMembers() {
    for (long id : removedMembers) {
      SimNode removed = nodes.get(id);
      if (!removed.decommissioned) {
        removed.decommissioned = true;
        record(id, "removed from the cluster; stopping it");
        if (removed.alive()) {
          crash(removed);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Network
  // ---------------------------------------------------------------------------------------------

  private record InFlight(long deliverAt, long seq, Message message)
      implements Comparable<InFlight> {
    @Override
    public int compareTo(InFlight o) {
      int c = Long.compare(deliverAt, o.deliverAt);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private void send(Message m) {
    stats.messagesSent++;
    if (faultsActive && rng.nextDouble() < dropRate) {
      stats.messagesDropped++;
      onUndeliverable(m);
      return;
    }
    enqueue(m);
    if (faultsActive && rng.nextDouble() < duplicateRate) {
      stats.messagesDuplicated++;
      enqueue(m);
    }
  }

  private void enqueue(Message m) {
    long delay = 1 + rng.nextInt(maxDelayUnits);
    network.add(new InFlight(now + delay, messageSeq++, m));
  }

  private void deliver(InFlight f) {
    Message m = f.message;
    SimNode to = nodes.get(m.to());
    if (to == null || !to.alive() || blockedLinks.contains(link(m.from(), m.to()))) {
      onUndeliverable(m);
      return;
    }
    if (to.pausedUntilTick > 0) {
      network.add(new InFlight(to.pausedUntilTick * UNITS_PER_TICK + 1, messageSeq++, m));
      return;
    }
    guard(to, () -> to.raft.step(m));
    if (m.type() == MessageType.SNAPSHOT) {
      reportSnapshot(m, true);
    }
  }

  /** What a real transport tells the sender when a message could not be delivered. */
  private void onUndeliverable(Message m) {
    if (m.type() != MessageType.SNAPSHOT) {
      return;
    }
    reportSnapshot(m, false);
  }

  private void reportSnapshot(Message m, boolean success) {
    SimNode from = nodes.get(m.from());
    if (from == null || !from.alive()) {
      return;
    }
    int incarnation = from.incarnation;
    transportReports.add(
        () -> {
          if (from.alive() && from.incarnation == incarnation) {
            guard(from, () -> from.raft.reportSnapshot(m.to(), success));
          }
        });
  }

  private static long link(long from, long to) {
    return from * 1_000_003L + to;
  }

  // ---------------------------------------------------------------------------------------------
  // Faults
  // ---------------------------------------------------------------------------------------------

  private void maybeInjectFault() {
    int roll = rng.nextInt(1000);
    List<SimNode> live = liveNodes();
    if (roll < 4) {
      partitionRandomly(false);
    } else if (roll < 7) {
      partitionRandomly(true);
    } else if (roll < 14) {
      if (!blockedLinks.isEmpty()) {
        blockedLinks.clear();
        record(0, "network healed");
      }
    } else if (roll < 18 && !live.isEmpty()) {
      SimNode victim = live.get(rng.nextInt(live.size()));
      record(victim.id, "crashed");
      crash(victim);
    } else if (roll < 30) {
      for (SimNode n : nodes.values()) {
        if (!n.alive() && !n.decommissioned) {
          start(n);
          record(n.id, "restarted");
          break;
        }
      }
    } else if (roll < 34) {
      dropRate = rng.nextInt(4) == 0 ? 0 : rng.nextDouble() * 0.2;
      duplicateRate = rng.nextDouble() * 0.1;
      maxDelayUnits = 1 + rng.nextInt(3 * UNITS_PER_TICK);
      record(
          0,
          String.format(
              "network now drops %.2f, duplicates %.2f, delays up to %d units",
              dropRate, duplicateRate, maxDelayUnits));
    } else if (roll < 38) {
      changeMembership();
    } else if (roll < 41) {
      transferLeadership();
    } else if (roll < 45) {
      isolateLeader();
    } else if (roll < 49) {
      pauseNode();
    }
  }

  private void partitionRandomly(boolean oneWay) {
    List<Long> ids = new ArrayList<>(nodes.keySet());
    blockedLinks.clear();
    if (oneWay) {
      long a = ids.get(rng.nextInt(ids.size()));
      for (long b : ids) {
        if (b != a && rng.nextBoolean()) {
          blockedLinks.add(link(a, b)); // a cannot reach b, but b still reaches a
        }
      }
      record(a, "one-way partition: cannot send to some peers");
      return;
    }
    Set<Long> side = new HashSet<>();
    for (long id : ids) {
      if (rng.nextBoolean()) {
        side.add(id);
      }
    }
    for (long a : ids) {
      for (long b : ids) {
        if (side.contains(a) != side.contains(b)) {
          blockedLinks.add(link(a, b));
        }
      }
    }
    record(0, "partitioned " + side + " from the rest");
  }

  /**
   * A process pause (GC, VM migration): the node neither ticks nor handles anything, while its
   * inbound messages and client requests pile up; when it resumes it still believes what it
   * believed before — the classic way a deposed leader gets to answer clients.
   */
  private void pauseNode() {
    SimNode leader = currentLeader();
    List<SimNode> live = liveNodes();
    if (live.isEmpty()) {
      return;
    }
    SimNode victim =
        leader != null && rng.nextBoolean() ? leader : live.get(rng.nextInt(live.size()));
    if (victim.pausedUntilTick > tick) {
      return;
    }
    victim.pausedUntilTick = tick + 15 + rng.nextInt(45);
    record(victim.id, "paused until tick " + victim.pausedUntilTick);
  }

  private void resumePausedNodes(boolean all) {
    for (SimNode n : nodes.values()) {
      if (n.pausedUntilTick > 0 && (all || n.pausedUntilTick <= tick)) {
        n.pausedUntilTick = 0;
        record(n.id, "resumed");
        if (n.alive()) {
          // Requests queued in its sockets are handled first, before it hears any news.
          List<Runnable> held = new ArrayList<>(n.heldRequests);
          n.heldRequests.clear();
          for (Runnable r : held) {
            r.run();
          }
          processReadies();
        }
      }
    }
  }

  /** The classic: the leader loses the network but does not know it yet; its clients stay. */
  private void isolateLeader() {
    SimNode leader = currentLeader();
    if (leader == null) {
      return;
    }
    blockedLinks.clear();
    for (long other : nodes.keySet()) {
      if (other != leader.id) {
        blockedLinks.add(link(leader.id, other));
        blockedLinks.add(link(other, leader.id));
      }
    }
    record(leader.id, "leader isolated from every peer");
  }

  private void changeMembership() {
    SimNode leader = currentLeader();
    if (leader == null) {
      return;
    }
    var conf = leader.raft.confState();
    int roll = rng.nextInt(3);
    ConfChange change;
    if (roll == 0 && conf.voters().size() + conf.learners().size() < config.nodes() + 2) {
      SimNode fresh = new SimNode(nextNodeId++);
      nodes.put(fresh.id, fresh);
      start(fresh);
      change = new ConfChange(ConfChange.Type.ADD_LEARNER, fresh.id);
    } else if (roll == 1 && !conf.learners().isEmpty()) {
      change = new ConfChange(ConfChange.Type.ADD_VOTER, conf.learners().iterator().next());
    } else if (roll == 2 && conf.voters().size() > Math.max(2, config.nodes() - 1)) {
      List<Long> voters = new ArrayList<>(conf.voters());
      change = new ConfChange(ConfChange.Type.REMOVE_NODE, voters.get(rng.nextInt(voters.size())));
    } else {
      return;
    }
    ProposeResult result = propose(leader, () -> leader.raft.proposeConfChange(change));
    record(leader.id, "proposed " + change + ": " + result);
  }

  private void transferLeadership() {
    SimNode leader = currentLeader();
    if (leader == null) {
      return;
    }
    List<Long> voters = new ArrayList<>(leader.raft.confState().voters());
    voters.remove(leader.id);
    if (voters.isEmpty()) {
      return;
    }
    long target = voters.get(rng.nextInt(voters.size()));
    record(leader.id, "transferring leadership to " + target);
    guard(leader, () -> leader.raft.transferLeadership(target));
  }

  private void healEverything() {
    faultsActive = false;
    resumePausedNodes(true);
    blockedLinks.clear();
    dropRate = 0;
    duplicateRate = 0;
    maxDelayUnits = UNITS_PER_TICK / 2;
    for (SimNode n : nodes.values()) {
      if (!n.alive() && !n.decommissioned) {
        start(n);
      }
    }
    record(0, "all faults healed; cluster must now converge");
    for (SimClient c : clients) {
      c.mustFinishAfterHeal = true;
    }
  }

  private void crash(SimNode n) {
    n.raft = null;
    n.pausedUntilTick = 0;
    n.heldRequests.clear();
    n.kv.clear();
    n.readIndexes.clear();
    n.lastOpByClient.clear();
  }

  private void start(SimNode n) {
    RaftConfig rc =
        RaftConfig.builder(n.id)
            .electionTicks(ELECTION_TICKS)
            .heartbeatTicks(1)
            // Small, varied batches: a follower far behind receives old-term entries without the
            // new leader's no-op in the same message, which the commit rule must not count.
            .maxSizePerMessage(64 << rng.nextInt(5))
            .maxInflightMessages(1 + rng.nextInt(8))
            .randomSeed(rng.nextLong())
            .injectedBugs(config.injectedBugs())
            .build();
    n.raft = new RaftNode(rc, n.disk);
    n.restoreStateMachine(n.disk.snapshot());
    n.observedCommit = n.disk.snapshot().index();
    n.incarnation++;
  }

  // ---------------------------------------------------------------------------------------------
  // Clients
  // ---------------------------------------------------------------------------------------------

  private void driveClient(SimClient c) {
    if (c.op == null) {
      if (c.mustFinishAfterHeal && c.finishedAfterHeal >= 2) {
        return;
      }
      if (rng.nextInt(3) != 0) {
        return;
      }
      boolean write = rng.nextInt(5) < 3;
      String key = KEYS[rng.nextInt(KEYS.length)];
      long opId = ++c.nextOp;
      String value = write ? "c" + c.id + "-" + opId : null;
      c.op = new SimClient.Op(c.id, opId, key, value, nextEventTime(), tick, c.mustFinishAfterHeal);
      attempt(c);
      return;
    }
    SimClient.Op op = c.op;
    if (!op.mustFinish && tick - op.startTick >= CLIENT_GIVE_UP_TICKS) {
      // Give up: a write's outcome is now unknown, a read simply did not happen.
      if (op.isWrite()) {
        history.add(op.pending());
      }
      c.op = null;
      return;
    }
    if (tick - op.attemptTick >= CLIENT_RETRY_TICKS) {
      attempt(c);
    }
  }

  /** Sends (or re-sends, with the same op id, so it applies at most once) the client's op. */
  private void attempt(SimClient c) {
    SimClient.Op op = c.op;
    op.attemptTick = tick;
    SimNode target = pickNodeFor(c);
    if (target == null) {
      return;
    }
    if (!op.isWrite() && op.target != 0) {
      // Each read attempt asks afresh under a new context; forget the previous one.
      nodes.get(op.target).readIndexes.remove(op.context());
      op.readAttempt++;
    }
    op.target = target.id;
    if (target.pausedUntilTick > 0) {
      int attemptNo = op.readAttempt;
      target.heldRequests.add(
          () -> {
            if (target.running()
                && c.op == op
                && op.target == target.id
                && op.readAttempt == attemptNo) {
              sendRequest(c, op, target);
            }
          });
      return;
    }
    sendRequest(c, op, target);
  }

  private void sendRequest(SimClient c, SimClient.Op op, SimNode target) {
    if (op.isWrite()) {
      byte[] data = new Put(c.id, op.op, op.key, op.value).encode();
      propose(target, () -> target.raft.propose(data));
    } else {
      byte[] ctx = op.context().getBytes(StandardCharsets.UTF_8);
      guard(target, () -> target.raft.readIndex(ctx));
    }
    processReadies();
  }

  /**
   * Like a real client, stay with the node we talked to last (even if it is a deposed leader that
   * does not know it yet), sometimes move to the leader we believe in, or to any node.
   */
  private SimNode pickNodeFor(SimClient c) {
    SimNode sticky = nodes.get(c.preferredNode);
    int roll = rng.nextInt(10);
    if (sticky != null && sticky.alive() && roll < 6) {
      return sticky;
    }
    SimNode leader = currentLeader();
    SimNode chosen;
    if (leader != null && roll < 9) {
      chosen = leader;
    } else {
      List<SimNode> live = liveNodes();
      chosen = live.isEmpty() ? null : live.get(rng.nextInt(live.size()));
    }
    if (chosen != null) {
      c.preferredNode = chosen.id;
    }
    return chosen;
  }

  private ProposeResult propose(SimNode n, java.util.function.Supplier<ProposeResult> call) {
    ProposeResult[] out = new ProposeResult[1];
    guard(n, () -> out[0] = call.get());
    return out[0];
  }

  // ---------------------------------------------------------------------------------------------
  // Convergence (liveness)
  // ---------------------------------------------------------------------------------------------

  private boolean converged() {
    SimNode leader = currentLeader();
    if (leader == null) {
      return false;
    }
    for (SimClient c : clients) {
      if (c.finishedAfterHeal < 2) {
        return false;
      }
    }
    for (long voter : leader.raft.confState().voters()) {
      SimNode n = nodes.get(voter);
      if (n == null || !n.alive() || n.lastApplied < leader.raft.commitIndex()) {
        return false;
      }
    }
    return leader.raft.commitIndex() == leader.raft.lastIndex();
  }

  private String livenessReport() {
    StringBuilder sb = new StringBuilder();
    for (SimNode n : nodes.values()) {
      sb.append("\n  ").append(n.alive() ? n.raft.toString() : "node " + n.id + " down");
    }
    for (SimClient c : clients) {
      sb.append("\n  client ").append(c.id).append(" op ").append(c.op);
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  private SimNode currentLeader() {
    SimNode best = null;
    for (SimNode n : nodes.values()) {
      if (n.alive() && n.raft.role() == Role.LEADER) {
        if (best == null || n.raft.term() > best.raft.term()) {
          best = n;
        }
      }
    }
    return best;
  }

  private List<SimNode> liveNodes() {
    List<SimNode> live = new ArrayList<>();
    for (SimNode n : nodes.values()) {
      if (n.alive()) {
        live.add(n);
      }
    }
    return live;
  }

  private void guard(SimNode n, Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      fail("node " + n.id + " threw " + e);
    }
  }

  private void check(String violation) {
    if (violation != null) {
      fail(violation);
    }
  }

  private void fail(String violation) {
    throw new SimulationFailure(config, tick, violation, String.join("\n", recentEvents));
  }

  /**
   * Client calls and returns are stamped from a counter, not the clock: the simulation runs them in
   * a total order, and the checker treats equal times as concurrent, which would hide real
   * precedence ("returned, then the next call") from it.
   */
  private long nextEventTime() {
    return ++eventClock;
  }

  private void record(long node, String event) {
    String line = String.format("t%05d %s %s", tick, node == 0 ? "sim   " : "node " + node, event);
    recentEvents.addLast(line);
    if (recentEvents.size() > 60) {
      recentEvents.removeFirst();
    }
    if (trace != null) {
      trace.accept(line);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Model types
  // ---------------------------------------------------------------------------------------------

  /** One simulated member: its disk survives crashes, everything else does not. */
  private final class SimNode {
    final long id;
    final MemoryRaftStorage disk = new MemoryRaftStorage();
    RaftNode raft;
    int incarnation;
    boolean decommissioned;
    long pausedUntilTick;
    final List<Runnable> heldRequests = new ArrayList<>();
    long lastApplied;
    long observedCommit;
    final TreeMap<String, String> kv = new TreeMap<>();
    final Map<Integer, Long> lastOpByClient = new HashMap<>();
    final Map<String, Long> readIndexes = new HashMap<>();
    private long lastSnapshotAt;

    SimNode(long id) {
      this.id = id;
    }

    boolean alive() {
      return raft != null;
    }

    /** Alive and not paused: it does work. */
    boolean running() {
      return raft != null && pausedUntilTick == 0;
    }

    void restoreStateMachine(Snapshot s) {
      kv.clear();
      lastOpByClient.clear();
      StateImage.decode(s.data(), kv, lastOpByClient);
      lastApplied = s.index();
      lastSnapshotAt = s.index();
    }

    void maybeSnapshot() {
      if (lastApplied - lastSnapshotAt < SNAPSHOT_EVERY) {
        return;
      }
      long term = raft.termAt(lastApplied);
      Snapshot s =
          new Snapshot(lastApplied, term, raft.confState(), StateImage.encode(kv, lastOpByClient));
      long compactTo = Math.max(disk.firstIndex() - 1, lastApplied - KEEP_AFTER_SNAPSHOT);
      disk.compact(s, compactTo);
      lastSnapshotAt = lastApplied;
      stats.snapshots++;
    }
  }

  /** A client write as it travels in a log entry. */
  record Put(int client, long op, String key, String value) {
    byte[] encode() {
      return (client + "|" + op + "|" + key + "|" + value).getBytes(StandardCharsets.UTF_8);
    }

    static Put decode(byte[] data) {
      String[] p = new String(data, StandardCharsets.UTF_8).split("\\|", 4);
      return new Put(Integer.parseInt(p[0]), Long.parseLong(p[1]), p[2], p[3]);
    }
  }

  /** Counters a run reports. */
  public static final class SimStats {
    long messagesSent;
    long readsByDeposedLeaders;
    long messagesDropped;
    long messagesDuplicated;
    long snapshots;
    long recoveryTicks;
    long historyOps;
    long ticks;

    @Override
    public String toString() {
      return String.format(
          "%d ticks, %d messages (%d dropped, %d duplicated), %d snapshots, %d client ops,"
              + " %d reads served by deposed leaders, recovered %d ticks after healing",
          ticks,
          messagesSent,
          messagesDropped,
          messagesDuplicated,
          snapshots,
          historyOps,
          readsByDeposedLeaders,
          recoveryTicks);
    }
  }

  /** Outcome of a run that found no violation. */
  public record SimResult(SimConfig config, SimStats stats) {}
}

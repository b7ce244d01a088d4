package dev.kubelite.store.raft;

import dev.kubelite.store.raft.RaftConfig.InjectedBug;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * One Raft participant as a deterministic state machine. Inputs: {@link #tick()}, {@link
 * #step(Message)}, {@link #propose(byte[])}, {@link #proposeConfChange(ConfChange)}, {@link
 * #readIndex(byte[])}, {@link #transferLeadership(long)}. Output: {@link #ready()} batches, which
 * the driver executes (see {@link Ready}) and acknowledges with {@link #advance(Ready)}. The node
 * never blocks, reads a clock, or touches IO; given the same inputs and seed it does the same
 * thing.
 *
 * <p>Not thread-safe: one driver thread owns it.
 */
public final class RaftNode {
  /** "No node": no leader known, no vote cast. */
  public static final long NONE = 0;

  private static final byte[] TRANSFER_CONTEXT = "transfer-leadership".getBytes();

  private final long id;
  private final RaftConfig config;
  private final Random random;
  private final RaftLog log;

  private long term;
  private long vote;
  private long leader = NONE;
  private Role role = Role.FOLLOWER;
  private ConfState conf;
  private final Map<Long, Progress> progress = new TreeMap<>();
  private final Map<Long, Boolean> votes = new HashMap<>();

  private int electionElapsed;
  private int heartbeatElapsed;
  private int randomizedElectionTimeout;

  private long leadTransferee = NONE;

  /**
   * Index of the latest membership change appended by this leader; none may be added until applied.
   */
  private long pendingConfIndex;

  private final ReadIndexQueue readIndexQueue = new ReadIndexQueue();

  /** Read requests received before this leader committed an entry of its own term. */
  private final List<Message> readsAwaitingTermCommit = new ArrayList<>();

  private List<Message> outbox = new ArrayList<>();
  private List<ReadState> readStates = new ArrayList<>();
  private SoftState reportedSoftState;
  private HardState reportedHardState;
  private boolean readyOutstanding;

  public RaftNode(RaftConfig config, RaftStorage storage) {
    this.id = config.id();
    this.config = config;
    this.random = new Random(config.randomSeed());
    this.log = new RaftLog(storage);

    HardState hs = storage.hardState();
    Snapshot snapshot = storage.snapshot();
    long applied = Math.max(config.applied(), snapshot.index());
    log.committed = Math.max(hs.commit(), Math.max(snapshot.index(), storage.firstIndex() - 1));
    if (applied > log.committed && applied <= storage.lastIndex()) {
      // Only entries known to be committed are applied, so they are committed. The saved commit
      // index can lag behind them: it is not synced on its own (as etcd's MustSync), and a machine
      // crash may keep the state machine's later write but lose it.
      log.committed = applied;
    }
    if (applied > log.committed) {
      throw new IllegalStateException(
          "applied index "
              + applied
              + " is beyond the last log index "
              + storage.lastIndex()
              + ": the Raft log lost entries the state machine holds; restore this member from a"
              + " snapshot, or remove it from the cluster and re-add it with an empty data dir");
    }
    log.applied = applied;
    // Membership: the snapshot's, plus changes the state machine already applied after it.
    conf = snapshot.conf();
    if (applied > snapshot.index()) {
      List<Entry> replay = log.slice(snapshot.index() + 1, applied + 1, Long.MAX_VALUE);
      if (replay == null) {
        throw new IllegalStateException("entries after snapshot " + snapshot.index() + " missing");
      }
      for (Entry e : replay) {
        if (e.type() == Entry.Type.CONF_CHANGE) {
          conf = ConfChange.decode(e.data()).applyTo(conf);
        }
      }
    }
    term = hs.term();
    vote = hs.vote();
    reportedHardState = hs;
    syncProgressWithConf();
    becomeFollower(term, NONE);
    reportedSoftState = softState();
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs
  // ---------------------------------------------------------------------------------------------

  /** Advances the logical clock by one tick. */
  public void tick() {
    checkNoReadyOutstanding();
    if (role == Role.LEADER) {
      tickLeader();
    } else {
      tickFollower();
    }
  }

  private void tickFollower() {
    electionElapsed++;
    if (promotable() && electionElapsed >= randomizedElectionTimeout) {
      electionElapsed = 0;
      stepLocal(MessageType.HUP);
    }
  }

  private void tickLeader() {
    heartbeatElapsed++;
    electionElapsed++;
    if (electionElapsed >= config.electionTicks()) {
      electionElapsed = 0;
      if (config.checkQuorum()) {
        stepLocal(MessageType.CHECK_QUORUM);
      }
      if (role == Role.LEADER && leadTransferee != NONE) {
        leadTransferee = NONE; // the transfer did not finish within an election timeout
      }
    }
    if (role == Role.LEADER && heartbeatElapsed >= config.heartbeatTicks()) {
      heartbeatElapsed = 0;
      stepLocal(MessageType.BEAT);
    }
  }

  /** Starts an election now (if this node may stand). */
  public void campaign() {
    checkNoReadyOutstanding();
    stepLocal(MessageType.HUP);
  }

  public ProposeResult propose(byte[] data) {
    checkNoReadyOutstanding();
    return propose(Entry.normal(0, 0, data));
  }

  /**
   * Proposes several writes at once, in order: one message, so a leader appends them together and
   * sends each follower one append for all of them. They share the result.
   */
  public ProposeResult propose(List<byte[]> data) {
    checkNoReadyOutstanding();
    List<Entry> entries = new ArrayList<>(data.size());
    for (byte[] d : data) {
      entries.add(Entry.normal(0, 0, d));
    }
    return propose(Message.builder(MessageType.PROPOSE).from(id).entries(entries).build());
  }

  public ProposeResult proposeConfChange(ConfChange change) {
    checkNoReadyOutstanding();
    return propose(new Entry(0, 0, Entry.Type.CONF_CHANGE, change.encode()));
  }

  private ProposeResult propose(Entry entry) {
    return propose(Message.builder(MessageType.PROPOSE).from(id).entries(List.of(entry)).build());
  }

  private ProposeResult propose(Message m) {
    return switch (role) {
      case LEADER -> leaderPropose(m);
      case FOLLOWER -> {
        if (leader == NONE) {
          yield ProposeResult.DROPPED_NO_LEADER;
        }
        send(m.toBuilder().to(leader));
        yield ProposeResult.FORWARDED;
      }
      default -> ProposeResult.DROPPED_NO_LEADER;
    };
  }

  /**
   * Requests a linearizable read point. The answer arrives as a {@link ReadState} with the same
   * context in a later {@link Ready} (on this node), unless leadership is lost meanwhile — callers
   * retry after a timeout.
   */
  public void readIndex(byte[] context) {
    checkNoReadyOutstanding();
    step(Message.builder(MessageType.READ_INDEX).from(id).to(id).context(context).build());
  }

  /** Asks the leader to hand leadership to {@code target}. */
  public void transferLeadership(long target) {
    checkNoReadyOutstanding();
    Message m = Message.builder(MessageType.TRANSFER_LEADER).from(target).to(id).build();
    if (role == Role.LEADER) {
      stepLeader(m);
    } else if (leader != NONE) {
      send(m.toBuilder().to(leader));
    }
  }

  /** The driver's report on a snapshot it was asked to send to {@code to}. */
  public void reportSnapshot(long to, boolean success) {
    checkNoReadyOutstanding();
    step(Message.builder(MessageType.SNAPSHOT_STATUS).from(to).to(id).reject(!success).build());
  }

  /**
   * The driver could not deliver to {@code to}; the leader stops streaming to it until it answers.
   */
  public void reportUnreachable(long to) {
    checkNoReadyOutstanding();
    step(Message.builder(MessageType.UNREACHABLE).from(to).to(id).build());
  }

  private void stepLocal(MessageType type) {
    step(Message.builder(type).from(id).to(id).build());
  }

  /** Feeds a message from a peer (or a local one) into the node. */
  public void step(Message m) {
    checkNoReadyOutstanding();
    if (m.term() == 0) {
      // Local messages, proposals and read requests carry no term.
    } else if (m.term() > term) {
      if (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE) {
        boolean force = Arrays.equals(m.context(), TRANSFER_CONTEXT);
        boolean inLease =
            config.checkQuorum() && leader != NONE && electionElapsed < config.electionTicks();
        if (!force && inLease) {
          // We heard from a live leader recently: a disruptive candidate cannot take over.
          return;
        }
      }
      if (m.type() == MessageType.PRE_VOTE) {
        // A pre-vote request never changes our term.
      } else if (m.type() == MessageType.PRE_VOTE_RESPONSE && !m.reject()) {
        // A granted pre-vote carries the future term; we adopt it only if we win.
      } else if (m.type() == MessageType.APPEND
          || m.type() == MessageType.HEARTBEAT
          || m.type() == MessageType.SNAPSHOT) {
        becomeFollower(m.term(), m.from());
      } else {
        becomeFollower(m.term(), NONE);
      }
    } else if (m.term() < term) {
      if ((config.checkQuorum() || config.preVote())
          && (m.type() == MessageType.HEARTBEAT || m.type() == MessageType.APPEND)) {
        // A deposed leader (e.g. behind a partition) learns of the newer term from our answer and
        // steps down; otherwise, with pre-vote, we could never disrupt it and it never learns.
        send(Message.builder(MessageType.APPEND_RESPONSE).to(m.from()));
      } else if (m.type() == MessageType.PRE_VOTE) {
        send(Message.builder(MessageType.PRE_VOTE_RESPONSE).to(m.from()).term(term).reject(true));
      }
      return;
    }

    switch (m.type()) {
      case HUP -> hup(false);
      case VOTE, PRE_VOTE -> handleVoteRequest(m);
      default -> {
        switch (role) {
          case LEADER -> stepLeader(m);
          case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
          case FOLLOWER -> stepFollower(m);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Elections
  // ---------------------------------------------------------------------------------------------

  private void hup(boolean transfer) {
    if (role == Role.LEADER || !promotable()) {
      return;
    }
    if (hasUnappliedConfChange()) {
      // Our view of membership may be stale until they are applied; campaigning now could use it.
      return;
    }
    if (config.preVote() && !transfer) {
      campaign(MessageType.PRE_VOTE, false);
    } else {
      campaign(MessageType.VOTE, transfer);
    }
  }

  private boolean hasUnappliedConfChange() {
    if (log.committed <= log.applied) {
      return false;
    }
    List<Entry> pending = log.slice(log.applied + 1, log.committed + 1, Long.MAX_VALUE);
    if (pending == null) {
      return false;
    }
    for (Entry e : pending) {
      if (e.type() == Entry.Type.CONF_CHANGE) {
        return true;
      }
    }
    return false;
  }

  private void campaign(MessageType voteType, boolean transfer) {
    long voteTerm;
    if (voteType == MessageType.PRE_VOTE) {
      becomePreCandidate();
      voteTerm = term + 1;
    } else {
      becomeCandidate();
      voteTerm = term;
    }
    if (poll(id, true) == VoteResult.WON) {
      // A single-voter cluster wins at once.
      if (voteType == MessageType.PRE_VOTE) {
        campaign(MessageType.VOTE, transfer);
      } else {
        becomeLeader();
      }
      return;
    }
    for (long voter : conf.voters()) {
      if (voter == id) {
        continue;
      }
      send(
          Message.builder(voteType)
              .to(voter)
              .term(voteTerm)
              .index(log.lastIndex())
              .logTerm(log.lastTerm())
              .context(transfer ? TRANSFER_CONTEXT : null));
    }
  }

  private void handleVoteRequest(Message m) {
    boolean canVote =
        vote == m.from()
            || (vote == NONE && leader == NONE)
            || (m.type() == MessageType.PRE_VOTE && m.term() > term);
    boolean upToDate =
        config.has(InjectedBug.VOTE_WITHOUT_LOG_CHECK) || log.isUpToDate(m.index(), m.logTerm());
    if (canVote && upToDate) {
      // A granted vote carries the candidate's term, so a pre-candidate can tell it apart.
      send(Message.builder(m.type().voteResponse()).to(m.from()).term(m.term()));
      if (m.type() == MessageType.VOTE) {
        electionElapsed = 0;
        vote = m.from();
      }
    } else {
      send(Message.builder(m.type().voteResponse()).to(m.from()).term(term).reject(true));
    }
  }

  private enum VoteResult {
    PENDING,
    WON,
    LOST
  }

  private VoteResult poll(long from, boolean granted) {
    votes.putIfAbsent(from, granted);
    int yes = 0;
    int no = 0;
    for (long voter : conf.voters()) {
      Boolean v = votes.get(voter);
      if (v == null) {
        continue;
      }
      if (v) {
        yes++;
      } else {
        no++;
      }
    }
    int quorum = conf.voters().size() / 2 + 1;
    if (yes >= quorum) {
      return VoteResult.WON;
    }
    if (no > conf.voters().size() - quorum) {
      return VoteResult.LOST;
    }
    return VoteResult.PENDING;
  }

  private void becomeFollower(long newTerm, long newLeader) {
    reset(newTerm);
    leader = newLeader;
    role = Role.FOLLOWER;
  }

  private void becomePreCandidate() {
    // Pre-candidacy changes neither term nor vote: that is the point of pre-vote.
    votes.clear();
    leader = NONE;
    role = Role.PRE_CANDIDATE;
  }

  private void becomeCandidate() {
    reset(term + 1);
    vote = id;
    role = Role.CANDIDATE;
  }

  private void becomeLeader() {
    reset(term);
    leader = id;
    role = Role.LEADER;
    Progress self = progress.get(id);
    self.becomeReplicate();
    // No membership change until the log up to here is applied: we cannot tell whether one is
    // pending among the entries we inherited.
    pendingConfIndex = log.lastIndex();
    // The no-op entry: committing it commits everything before it (figure 8 of the Raft paper).
    appendEntries(List.of(Entry.normal(0, 0, null)));
  }

  private void reset(long newTerm) {
    if (term != newTerm) {
      term = newTerm;
      vote = NONE;
    }
    leader = NONE;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    randomizedElectionTimeout = config.electionTicks() + random.nextInt(config.electionTicks());
    leadTransferee = NONE;
    votes.clear();
    pendingConfIndex = 0;
    readIndexQueue.clear();
    readsAwaitingTermCommit.clear();
    for (Map.Entry<Long, Progress> e : progress.entrySet()) {
      Progress fresh = newProgress(e.getValue().learner);
      if (e.getKey() == id) {
        fresh.match = log.lastStableIndex();
      }
      e.setValue(fresh);
    }
  }

  private Progress newProgress(boolean learner) {
    return new Progress(log.lastIndex() + 1, config.maxInflightMessages(), learner);
  }

  private boolean promotable() {
    return conf.voters().contains(id) && !log.hasPendingSnapshot();
  }

  // ---------------------------------------------------------------------------------------------
  // Leader
  // ---------------------------------------------------------------------------------------------

  private void stepLeader(Message m) {
    switch (m.type()) {
      case BEAT -> broadcastHeartbeat(readIndexQueue.lastContext());
      case CHECK_QUORUM -> {
        if (!quorumRecentlyActive()) {
          becomeFollower(term, NONE);
        }
      }
      case PROPOSE -> leaderPropose(m);
      case APPEND_RESPONSE -> handleAppendResponse(m);
      case HEARTBEAT_RESPONSE -> handleHeartbeatResponse(m);
      case SNAPSHOT_STATUS -> {
        Progress pr = progress.get(m.from());
        if (pr != null && pr.state == Progress.State.SNAPSHOT) {
          if (m.reject()) {
            pr.pendingSnapshot = 0;
          }
          // Either way, wait for the follower's answer (or a heartbeat reply) before sending more.
          pr.becomeProbe();
          pr.probeSent = true;
        }
      }
      case UNREACHABLE -> {
        Progress pr = progress.get(m.from());
        if (pr != null && pr.state == Progress.State.REPLICATE) {
          pr.becomeProbe();
        }
      }
      case TRANSFER_LEADER -> handleTransferLeader(m.from());
      case READ_INDEX -> handleReadIndex(m);
      default -> {
        // Other messages in our own term are stale (e.g. late vote responses) and carry no news.
      }
    }
  }

  private ProposeResult leaderPropose(Message m) {
    if (!progress.containsKey(id)) {
      return ProposeResult.DROPPED_NOT_MEMBER;
    }
    if (leadTransferee != NONE) {
      return ProposeResult.DROPPED_LEADERSHIP_TRANSFER;
    }
    List<Entry> entries = new ArrayList<>(m.entries().size());
    for (Entry e : m.entries()) {
      if (e.type() == Entry.Type.CONF_CHANGE) {
        if (pendingConfIndex > log.applied) {
          return ProposeResult.DROPPED_CONF_CHANGE_PENDING;
        }
        ConfChange cc = ConfChange.decode(e.data());
        if (!validConfChange(cc)) {
          return ProposeResult.DROPPED_INVALID_CONF_CHANGE;
        }
        pendingConfIndex = log.lastIndex() + entries.size() + 1;
      }
      entries.add(e);
    }
    appendEntries(entries);
    broadcastAppend();
    return ProposeResult.ACCEPTED;
  }

  private boolean validConfChange(ConfChange cc) {
    return switch (cc.type()) {
      case ADD_VOTER -> !conf.voters().contains(cc.nodeId());
      case ADD_LEARNER -> !conf.contains(cc.nodeId());
      case REMOVE_NODE ->
          conf.contains(cc.nodeId())
              && !(conf.voters().size() == 1 && conf.voters().contains(cc.nodeId()));
    };
  }

  private void appendEntries(List<Entry> entries) {
    long index = log.lastIndex();
    List<Entry> positioned = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      positioned.add(e.withPosition(term, ++index));
    }
    log.append(positioned);
    // The leader counts itself for commit only once the driver reports these entries durable
    // (see advance), so a commit never rests on a copy that is still in a page cache.
  }

  private void handleAppendResponse(Message m) {
    Progress pr = progress.get(m.from());
    if (pr == null) {
      return;
    }
    pr.recentActive = true;
    if (m.reject()) {
      long hint = m.rejectHint();
      if (m.logTerm() > 0) {
        hint = log.findConflictByTerm(m.rejectHint(), m.logTerm());
      }
      if (pr.maybeDecreaseTo(m.index(), hint)) {
        if (pr.state == Progress.State.REPLICATE) {
          pr.becomeProbe();
        }
        sendAppend(m.from(), true);
      }
      return;
    }
    boolean wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index())) {
      return;
    }
    switch (pr.state) {
      case PROBE -> pr.becomeReplicate();
      case SNAPSHOT -> {
        if (pr.match >= pr.pendingSnapshot) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
      }
      case REPLICATE -> pr.inflights.freeUpTo(m.index());
    }
    if (maybeCommit()) {
      broadcastAppend();
    } else if (wasPaused) {
      sendAppend(m.from(), false);
    }
    // Pipelining: keep the follower's window full.
    while (sendAppend(m.from(), false)) {
      // each call sends one more batch
    }
    if (m.from() == leadTransferee && pr.match == log.lastIndex()) {
      sendTimeoutNow(m.from());
    }
  }

  private void handleHeartbeatResponse(Message m) {
    Progress pr = progress.get(m.from());
    if (pr == null) {
      return;
    }
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state == Progress.State.REPLICATE && pr.inflights.full()) {
      // Responses may have been lost; make room so replication cannot stall forever.
      pr.inflights.freeFirst();
    }
    if (pr.match < log.lastIndex()) {
      sendAppend(m.from(), true);
    }
    if (m.context() == null) {
      return;
    }
    List<ReadIndexQueue.Request> released = readIndexQueue.acknowledge(m.from(), m.context(), this);
    for (ReadIndexQueue.Request req : released) {
      answerReadIndex(req.message(), req.index());
    }
  }

  /** Whether a majority of voters (counting ourselves) has acknowledged {@code acks}. */
  boolean isQuorum(Set<Long> acks) {
    int count = 0;
    for (long voter : conf.voters()) {
      if (acks.contains(voter)) {
        count++;
      }
    }
    return count >= conf.voters().size() / 2 + 1;
  }

  private void handleTransferLeader(long target) {
    Progress pr = progress.get(target);
    if (pr == null || pr.learner || target == id || leadTransferee == target) {
      return;
    }
    leadTransferee = target;
    electionElapsed = 0; // the transfer must finish within an election timeout
    if (pr.match == log.lastIndex()) {
      sendTimeoutNow(target);
    } else {
      sendAppend(target, true);
    }
  }

  private void sendTimeoutNow(long to) {
    send(Message.builder(MessageType.TIMEOUT_NOW).to(to));
  }

  private void handleReadIndex(Message m) {
    if (conf.voters().size() == 1 && conf.voters().contains(id)) {
      answerReadIndex(m, log.committed);
      return;
    }
    if (log.term(log.committed) != term) {
      // Until an entry of our term commits, our commit index may lag what was acknowledged before.
      readsAwaitingTermCommit.add(m);
      return;
    }
    if (config.has(InjectedBug.READ_INDEX_WITHOUT_QUORUM)) {
      answerReadIndex(m, log.committed);
      return;
    }
    byte[] ctx = m.context() == null ? new byte[0] : m.context();
    readIndexQueue.add(log.committed, m, ctx, id);
    broadcastHeartbeat(ctx);
  }

  private void answerReadIndex(Message request, long index) {
    if (request.from() == id) {
      readStates.add(new ReadState(index, request.context()));
    } else {
      send(
          Message.builder(MessageType.READ_INDEX_RESPONSE)
              .to(request.from())
              .index(index)
              .context(request.context()));
    }
  }

  private boolean quorumRecentlyActive() {
    int active = 0;
    for (long voter : conf.voters()) {
      Progress pr = progress.get(voter);
      if (voter == id || (pr != null && pr.recentActive)) {
        active++;
      }
    }
    for (Map.Entry<Long, Progress> e : progress.entrySet()) {
      if (e.getKey() != id) {
        e.getValue().recentActive = false;
      }
    }
    return active >= conf.voters().size() / 2 + 1;
  }

  /**
   * Advances the commit index to what a quorum of voters holds, if that is an entry of our term.
   */
  private boolean maybeCommit() {
    if (conf.voters().isEmpty()) {
      return false;
    }
    long[] matches = new long[conf.voters().size()];
    int i = 0;
    for (long voter : conf.voters()) {
      Progress pr = progress.get(voter);
      matches[i++] = pr == null ? 0 : pr.match;
    }
    Arrays.sort(matches);
    long quorumIndex = matches[matches.length - (matches.length / 2 + 1)];
    if (quorumIndex <= log.committed) {
      return false;
    }
    boolean currentTerm = log.term(quorumIndex) == term;
    if (!currentTerm && !config.has(InjectedBug.COMMIT_STALE_TERM_ENTRIES)) {
      // Raft's commit rule: replicas of an earlier term's entry prove nothing (figure 8).
      return false;
    }
    boolean firstCommitOfTerm = log.term(log.committed) != term;
    log.commitTo(quorumIndex);
    if (firstCommitOfTerm && currentTerm && !readsAwaitingTermCommit.isEmpty()) {
      List<Message> waiting = new ArrayList<>(readsAwaitingTermCommit);
      readsAwaitingTermCommit.clear();
      for (Message m : waiting) {
        handleReadIndex(m);
      }
    }
    return true;
  }

  private void broadcastAppend() {
    for (long peer : progress.keySet()) {
      if (peer != id) {
        sendAppend(peer, true);
      }
    }
  }

  private void broadcastHeartbeat(byte[] context) {
    for (Map.Entry<Long, Progress> e : progress.entrySet()) {
      if (e.getKey() == id) {
        continue;
      }
      // Never tell a follower to commit beyond what it is known to hold.
      long commit = Math.min(e.getValue().match, log.committed);
      send(Message.builder(MessageType.HEARTBEAT).to(e.getKey()).commit(commit).context(context));
    }
  }

  /**
   * Sends {@code to} the entries it lacks (or a snapshot if they are compacted away). Returns
   * whether anything was sent. With {@code sendIfEmpty} false, sends only if there are entries.
   */
  private boolean sendAppend(long to, boolean sendIfEmpty) {
    Progress pr = progress.get(to);
    if (pr == null || pr.isPaused()) {
      return false;
    }
    long prevIndex = pr.next - 1;
    long prevTerm = log.term(prevIndex);
    List<Entry> entries =
        prevTerm == RaftStorage.UNKNOWN_TERM
            ? null
            : log.entriesFrom(pr.next, config.maxSizePerMessage());
    if (entries == null) {
      return sendSnapshot(to, pr);
    }
    if (entries.isEmpty() && !sendIfEmpty) {
      return false;
    }
    send(
        Message.builder(MessageType.APPEND)
            .to(to)
            .index(prevIndex)
            .logTerm(prevTerm)
            .entries(entries)
            .commit(log.committed));
    if (!entries.isEmpty()) {
      long last = entries.get(entries.size() - 1).index();
      switch (pr.state) {
        case REPLICATE -> {
          pr.next = last + 1;
          pr.inflights.add(last);
        }
        case PROBE -> pr.probeSent = true;
        case SNAPSHOT -> throw new IllegalStateException("append while sending snapshot to " + to);
      }
    } else if (pr.state == Progress.State.PROBE) {
      pr.probeSent = true;
    }
    return true;
  }

  private boolean sendSnapshot(long to, Progress pr) {
    if (!pr.recentActive) {
      // Snapshots are big: only send one to a peer we know is alive.
      return false;
    }
    Snapshot snapshot = log.snapshot();
    if (snapshot.isEmpty()) {
      throw new IllegalStateException("entries needed by " + to + " are compacted but no snapshot");
    }
    send(Message.builder(MessageType.SNAPSHOT).to(to).snapshot(snapshot));
    pr.becomeSnapshot(snapshot.index());
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Candidate and follower
  // ---------------------------------------------------------------------------------------------

  private void stepCandidate(Message m) {
    MessageType myVoteResponse =
        role == Role.PRE_CANDIDATE ? MessageType.PRE_VOTE_RESPONSE : MessageType.VOTE_RESPONSE;
    switch (m.type()) {
      case APPEND -> {
        becomeFollower(m.term(), m.from());
        handleAppend(m);
      }
      case HEARTBEAT -> {
        becomeFollower(m.term(), m.from());
        handleHeartbeat(m);
      }
      case SNAPSHOT -> {
        becomeFollower(m.term(), m.from());
        handleSnapshot(m);
      }
      default -> {
        if (m.type() != myVoteResponse) {
          return; // proposals are dropped; everything else is stale
        }
        switch (poll(m.from(), !m.reject())) {
          case WON -> {
            if (role == Role.PRE_CANDIDATE) {
              campaign(MessageType.VOTE, false);
            } else {
              becomeLeader();
              broadcastAppend();
            }
          }
          case LOST -> becomeFollower(term, NONE);
          case PENDING -> {}
        }
      }
    }
  }

  private void stepFollower(Message m) {
    switch (m.type()) {
      case PROPOSE -> {
        if (leader != NONE) {
          send(m.toBuilder().to(leader));
        }
      }
      case APPEND -> {
        electionElapsed = 0;
        leader = m.from();
        handleAppend(m);
      }
      case HEARTBEAT -> {
        electionElapsed = 0;
        leader = m.from();
        handleHeartbeat(m);
      }
      case SNAPSHOT -> {
        electionElapsed = 0;
        leader = m.from();
        handleSnapshot(m);
      }
      case TRANSFER_LEADER -> {
        if (leader != NONE) {
          send(m.toBuilder().to(leader));
        }
      }
      case TIMEOUT_NOW -> hup(true);
      case READ_INDEX -> {
        if (leader != NONE) {
          send(m.toBuilder().to(leader));
        }
      }
      case READ_INDEX_RESPONSE -> readStates.add(new ReadState(m.index(), m.context()));
      default -> {
        // Responses meant for a leader or candidate we no longer are.
      }
    }
  }

  private void handleAppend(Message m) {
    if (m.index() < log.committed) {
      // Old, reordered message: tell the leader how far we are committed.
      send(Message.builder(MessageType.APPEND_RESPONSE).to(m.from()).index(log.committed));
      return;
    }
    long lastNew = log.maybeAppend(m.index(), m.logTerm(), m.commit(), m.entries());
    if (lastNew >= 0) {
      send(Message.builder(MessageType.APPEND_RESPONSE).to(m.from()).index(lastNew));
      return;
    }
    // Mismatch: hint at the highest index that could match, skipping whole terms.
    long hintIndex = log.findConflictByTerm(Math.min(m.index(), log.lastIndex()), m.logTerm());
    long hintTerm = log.term(hintIndex);
    send(
        Message.builder(MessageType.APPEND_RESPONSE)
            .to(m.from())
            .index(m.index())
            .reject(true)
            .rejectHint(hintIndex)
            .logTerm(hintTerm == RaftStorage.UNKNOWN_TERM ? 0 : hintTerm));
  }

  private void handleHeartbeat(Message m) {
    log.commitTo(Math.min(m.commit(), log.lastIndex()));
    send(Message.builder(MessageType.HEARTBEAT_RESPONSE).to(m.from()).context(m.context()));
  }

  private void handleSnapshot(Message m) {
    if (restore(m.snapshot())) {
      send(Message.builder(MessageType.APPEND_RESPONSE).to(m.from()).index(log.lastIndex()));
    } else {
      send(Message.builder(MessageType.APPEND_RESPONSE).to(m.from()).index(log.committed));
    }
  }

  private boolean restore(Snapshot snapshot) {
    if (snapshot.index() <= log.committed) {
      return false;
    }
    // The snapshot may predate our own addition (its membership lacks us): adopt it anyway. Until
    // we
    // apply the entry that adds us we cannot campaign, and that entry follows in the log.
    if (log.matchTerm(snapshot.index(), snapshot.term())) {
      // We already hold that entry: just fast-forward the commit index.
      log.commitTo(snapshot.index());
      return false;
    }
    log.restore(snapshot);
    conf = snapshot.conf();
    syncProgressWithConf();
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Membership
  // ---------------------------------------------------------------------------------------------

  private void applyConfChange(ConfChange cc) {
    conf = cc.applyTo(conf);
    syncProgressWithConf();
    if (role != Role.LEADER) {
      return;
    }
    if (cc.type() == ConfChange.Type.REMOVE_NODE && cc.nodeId() == id) {
      stepDownAfterRemoval();
      return;
    }
    if (leadTransferee != NONE && !conf.voters().contains(leadTransferee)) {
      leadTransferee = NONE;
    }
    // The quorum changed: entries may now be committed, and new members need the log.
    if (maybeCommit()) {
      broadcastAppend();
    } else {
      broadcastAppend();
    }
  }

  /** We were removed while leading: hand over to the most caught-up voter, then step down. */
  private void stepDownAfterRemoval() {
    long best = NONE;
    long bestMatch = -1;
    for (long voter : conf.voters()) {
      Progress pr = progress.get(voter);
      if (pr != null && pr.match > bestMatch) {
        best = voter;
        bestMatch = pr.match;
      }
    }
    if (best != NONE && bestMatch == log.lastIndex()) {
      sendTimeoutNow(best);
    }
    becomeFollower(term, NONE);
  }

  private void syncProgressWithConf() {
    progress.keySet().removeIf(peer -> !conf.contains(peer));
    for (long voter : conf.voters()) {
      Progress pr = progress.get(voter);
      if (pr == null) {
        pr = newProgress(false);
        pr.recentActive = true; // give a new member a chance before check-quorum counts it out
        if (voter == id) {
          pr.match = log.lastStableIndex();
        }
        progress.put(voter, pr);
      }
      pr.learner = false;
    }
    for (long learner : conf.learners()) {
      Progress pr = progress.get(learner);
      if (pr == null) {
        pr = newProgress(true);
        pr.recentActive = true;
        if (learner == id) {
          pr.match = log.lastStableIndex();
        }
        progress.put(learner, pr);
      }
      pr.learner = true;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output
  // ---------------------------------------------------------------------------------------------

  private void send(Message.Builder b) {
    Message m = b.from(id).build();
    if (m.term() == 0 && m.type() != MessageType.PROPOSE && m.type() != MessageType.READ_INDEX) {
      m = m.toBuilder().term(term).build();
    }
    outbox.add(m);
  }

  private SoftState softState() {
    return new SoftState(leader, role);
  }

  private HardState hardState() {
    return new HardState(term, vote, log.committed);
  }

  public boolean hasReady() {
    return !softState().equals(reportedSoftState)
        || !hardState().equals(reportedHardState)
        || log.hasUnstableEntries()
        || log.hasPendingSnapshot()
        || log.hasNextCommittedEntries()
        || !outbox.isEmpty()
        || !readStates.isEmpty();
  }

  /** The next batch of work; the driver must call {@link #advance(Ready)} before anything else. */
  public Ready ready() {
    checkNoReadyOutstanding();
    SoftState soft = softState();
    HardState hard = hardState();
    Ready rd =
        new Ready(
            soft.equals(reportedSoftState) ? null : soft,
            hard.equals(reportedHardState) ? null : hard,
            log.unstableEntries(),
            log.pendingSnapshot(),
            log.nextCommittedEntries(config.maxCommittedSizePerReady()),
            outbox,
            readStates);
    outbox = new ArrayList<>();
    readStates = new ArrayList<>();
    readyOutstanding = true;
    return rd;
  }

  /** The driver finished executing {@code rd}: persisted, sent, applied. */
  public void advance(Ready rd) {
    if (!readyOutstanding) {
      throw new IllegalStateException("advance without an outstanding ready");
    }
    readyOutstanding = false;
    if (rd.softState() != null) {
      reportedSoftState = rd.softState();
    }
    if (rd.hardState() != null) {
      reportedHardState = rd.hardState();
    }
    if (rd.snapshot() != null) {
      log.stableSnapshotTo(rd.snapshot().index());
      log.applied = Math.max(log.applied, rd.snapshot().index());
    }
    if (!rd.entries().isEmpty()) {
      Entry last = rd.entries().get(rd.entries().size() - 1);
      log.stableTo(last.index(), last.term());
    }
    Progress self = progress.get(id);
    if (self != null && role == Role.LEADER) {
      // Our own copy is durable now; it counts toward the commit quorum from here on.
      if (self.maybeUpdate(log.lastStableIndex()) && maybeCommit()) {
        broadcastAppend();
      }
    }
    for (Entry e : rd.committedEntries()) {
      log.appliedTo(e.index());
      if (e.type() == Entry.Type.CONF_CHANGE) {
        applyConfChange(ConfChange.decode(e.data()));
      }
    }
  }

  private void checkNoReadyOutstanding() {
    if (readyOutstanding) {
      throw new IllegalStateException("call advance(ready) before stepping the node again");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Observation (for drivers, logs and tests)
  // ---------------------------------------------------------------------------------------------

  public long id() {
    return id;
  }

  public long term() {
    return term;
  }

  public long vote() {
    return vote;
  }

  public Role role() {
    return role;
  }

  public long leader() {
    return leader;
  }

  public long commitIndex() {
    return log.committed;
  }

  public long appliedIndex() {
    return log.applied;
  }

  public long lastIndex() {
    return log.lastIndex();
  }

  public long lastTerm() {
    return log.lastTerm();
  }

  /** Term of the entry at {@code index} in this node's log, or -1 if unknown. */
  public long termAt(long index) {
    return log.term(index);
  }

  /** Whether this node may stand for election (a voter with no snapshot pending). */
  public boolean campaignable() {
    return promotable();
  }

  public ConfState confState() {
    return conf;
  }

  public long leadTransferee() {
    return leadTransferee;
  }

  /** Match index the leader records for {@code peer}, or -1 when not leader or unknown. */
  public long matchIndex(long peer) {
    Progress pr = progress.get(peer);
    return role == Role.LEADER && pr != null ? pr.match : -1;
  }

  @Override
  public String toString() {
    return "node "
        + id
        + " "
        + role
        + " term="
        + term
        + " vote="
        + vote
        + " leader="
        + leader
        + " "
        + log
        + " conf="
        + conf;
  }

  /** Pending ReadIndex requests in arrival order, each waiting for a quorum of heartbeat acks. */
  private static final class ReadIndexQueue {
    record Request(long index, Message message, java.util.HashSet<Long> acks) {}

    private final LinkedHashMap<ByteBuffer, Request> pending = new LinkedHashMap<>();

    void add(long index, Message m, byte[] ctx, long self) {
      ByteBuffer key = ByteBuffer.wrap(ctx);
      if (pending.containsKey(key)) {
        return;
      }
      Request req = new Request(index, m, new java.util.HashSet<>());
      req.acks.add(self);
      pending.put(key, req);
    }

    /**
     * Records {@code from}'s ack of {@code ctx}; once a quorum acked, releases that request and
     * every earlier one (a later quorum round confirms leadership for earlier reads too).
     */
    List<Request> acknowledge(long from, byte[] ctx, RaftNode node) {
      Request req = pending.get(ByteBuffer.wrap(ctx));
      if (req == null) {
        return List.of();
      }
      req.acks.add(from);
      if (!node.isQuorum(req.acks)) {
        return List.of();
      }
      List<Request> released = new ArrayList<>();
      var it = pending.entrySet().iterator();
      while (it.hasNext()) {
        Request r = it.next().getValue();
        it.remove();
        released.add(r);
        if (r == req) {
          break;
        }
      }
      return released;
    }

    byte[] lastContext() {
      if (pending.isEmpty()) {
        return null;
      }
      ByteBuffer last = null;
      for (ByteBuffer k : pending.keySet()) {
        last = k;
      }
      return last.array();
    }

    void clear() {
      pending.clear();
    }
  }
}

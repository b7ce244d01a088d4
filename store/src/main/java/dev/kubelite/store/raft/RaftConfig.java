package dev.kubelite.store.raft;

import java.util.EnumSet;
import java.util.Set;

/**
 * How a node behaves. Times are in ticks: the driver decides how long a tick is (the store uses 100
 * ms, so the defaults give a 1 s heartbeat-to-election ratio of 1:10 like etcd's).
 *
 * @param id this node's id (non-zero)
 * @param electionTicks followers campaign after a random timeout in [electionTicks,
 *     2*electionTicks)
 * @param heartbeatTicks leader heartbeat interval
 * @param preVote run a pre-election first, so a node that cannot win does not bump terms
 * @param checkQuorum a leader steps down when it has not heard from a quorum for an election
 *     timeout, and followers ignore vote requests while they hear from a leader (leader lease)
 * @param maxSizePerMessage bytes of entries per APPEND message (batching)
 * @param maxInflightMessages APPEND messages in flight per follower (pipelining window)
 * @param maxCommittedSizePerReady bytes of committed entries handed out per Ready
 * @param applied the index the state machine has already applied on restart (0: the snapshot's)
 * @param randomSeed seeds the randomized election timeout; the node is deterministic given it
 * @param injectedBugs deliberate safety bugs, for proving that the simulation's checkers catch
 *     them. Never set outside tests.
 */
public record RaftConfig(
    long id,
    int electionTicks,
    int heartbeatTicks,
    boolean preVote,
    boolean checkQuorum,
    long maxSizePerMessage,
    int maxInflightMessages,
    long maxCommittedSizePerReady,
    long applied,
    long randomSeed,
    Set<InjectedBug> injectedBugs) {

  /** Known-wrong variants of the algorithm, each of which a checker must catch. */
  public enum InjectedBug {
    /** Commit by counting replicas of entries from earlier terms (Raft paper, figure 8). */
    COMMIT_STALE_TERM_ENTRIES,
    /** Serve ReadIndex without confirming leadership with a heartbeat round. */
    READ_INDEX_WITHOUT_QUORUM,
    /** Grant votes without checking the candidate's log is up to date. */
    VOTE_WITHOUT_LOG_CHECK
  }

  public RaftConfig {
    if (id == 0) {
      throw new IllegalArgumentException("node id must be non-zero");
    }
    if (heartbeatTicks <= 0 || electionTicks <= heartbeatTicks) {
      throw new IllegalArgumentException(
          "need 0 < heartbeatTicks < electionTicks, got " + heartbeatTicks + ", " + electionTicks);
    }
    if (maxInflightMessages <= 0) {
      throw new IllegalArgumentException("maxInflightMessages must be positive");
    }
    injectedBugs = injectedBugs.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(injectedBugs));
  }

  /**
   * Production defaults for node {@code id}: pre-vote and check-quorum on, 10:1 election:heartbeat.
   */
  public static Builder builder(long id) {
    return new Builder(id);
  }

  public Builder toBuilder() {
    Builder b = new Builder(id);
    b.electionTicks = electionTicks;
    b.heartbeatTicks = heartbeatTicks;
    b.preVote = preVote;
    b.checkQuorum = checkQuorum;
    b.maxSizePerMessage = maxSizePerMessage;
    b.maxInflightMessages = maxInflightMessages;
    b.maxCommittedSizePerReady = maxCommittedSizePerReady;
    b.applied = applied;
    b.randomSeed = randomSeed;
    b.injectedBugs = injectedBugs;
    return b;
  }

  public boolean has(InjectedBug bug) {
    return injectedBugs.contains(bug);
  }

  /** Builds a config; unset values keep the production defaults. */
  public static final class Builder {
    private final long id;
    private int electionTicks = 10;
    private int heartbeatTicks = 1;
    private boolean preVote = true;
    private boolean checkQuorum = true;
    private long maxSizePerMessage = 1 << 20;
    private int maxInflightMessages = 256;
    private long maxCommittedSizePerReady = 16 << 20;
    private long applied;
    private long randomSeed;
    private Set<InjectedBug> injectedBugs = Set.of();

    private Builder(long id) {
      this.id = id;
      this.randomSeed = System.nanoTime() ^ id;
    }

    public Builder electionTicks(int v) {
      electionTicks = v;
      return this;
    }

    public Builder heartbeatTicks(int v) {
      heartbeatTicks = v;
      return this;
    }

    public Builder preVote(boolean v) {
      preVote = v;
      return this;
    }

    public Builder checkQuorum(boolean v) {
      checkQuorum = v;
      return this;
    }

    public Builder maxSizePerMessage(long v) {
      maxSizePerMessage = v;
      return this;
    }

    public Builder maxInflightMessages(int v) {
      maxInflightMessages = v;
      return this;
    }

    public Builder maxCommittedSizePerReady(long v) {
      maxCommittedSizePerReady = v;
      return this;
    }

    public Builder applied(long v) {
      applied = v;
      return this;
    }

    public Builder randomSeed(long v) {
      randomSeed = v;
      return this;
    }

    public Builder injectedBugs(Set<InjectedBug> v) {
      injectedBugs = v;
      return this;
    }

    public RaftConfig build() {
      return new RaftConfig(
          id,
          electionTicks,
          heartbeatTicks,
          preVote,
          checkQuorum,
          maxSizePerMessage,
          maxInflightMessages,
          maxCommittedSizePerReady,
          applied,
          randomSeed,
          injectedBugs);
    }
  }
}

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

  /** Defaults for production: pre-vote and check-quorum on, 10:1 election:heartbeat. */
  public static RaftConfig defaults(long id) {
    return new RaftConfig(
        id, 10, 1, true, true, 1 << 20, 256, 16 << 20, 0, System.nanoTime() ^ id, Set.of());
  }

  public RaftConfig withSeed(long seed) {
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
        seed,
        injectedBugs);
  }

  public RaftConfig withApplied(long newApplied) {
    return new RaftConfig(
        id,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        maxSizePerMessage,
        maxInflightMessages,
        maxCommittedSizePerReady,
        newApplied,
        randomSeed,
        injectedBugs);
  }

  public RaftConfig withInjectedBugs(Set<InjectedBug> bugs) {
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
        bugs);
  }

  public RaftConfig withLimits(long newMaxSizePerMessage, int newMaxInflight) {
    return new RaftConfig(
        id,
        electionTicks,
        heartbeatTicks,
        preVote,
        checkQuorum,
        newMaxSizePerMessage,
        newMaxInflight,
        maxCommittedSizePerReady,
        applied,
        randomSeed,
        injectedBugs);
  }

  public boolean has(InjectedBug bug) {
    return injectedBugs.contains(bug);
  }
}

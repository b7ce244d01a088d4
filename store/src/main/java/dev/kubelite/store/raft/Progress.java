package dev.kubelite.store.raft;

/**
 * The leader's view of one peer's log. PROBE sends one APPEND at a time until the follower's match
 * point is found; REPLICATE streams entries optimistically with up to a window in flight; SNAPSHOT
 * waits for a snapshot to land.
 */
final class Progress {
  enum State {
    PROBE,
    REPLICATE,
    SNAPSHOT
  }

  long match;
  long next;
  State state = State.PROBE;

  /**
   * In PROBE: an APPEND was sent and we wait for its answer (or a heartbeat reply) to send more.
   */
  boolean probeSent;

  /** In SNAPSHOT: the index of the snapshot sent. */
  long pendingSnapshot;

  /** Heard from since the last check-quorum round. */
  boolean recentActive;

  boolean learner;
  final Inflights inflights;

  Progress(long next, int maxInflight, boolean learner) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.learner = learner;
  }

  void becomeProbe() {
    if (state == State.SNAPSHOT) {
      // After a snapshot the follower has at least pendingSnapshot; resume from there.
      long pending = pendingSnapshot;
      resetState(State.PROBE);
      next = Math.max(match + 1, pending + 1);
    } else {
      resetState(State.PROBE);
      next = match + 1;
    }
  }

  void becomeReplicate() {
    resetState(State.REPLICATE);
    next = match + 1;
  }

  void becomeSnapshot(long snapshotIndex) {
    resetState(State.SNAPSHOT);
    pendingSnapshot = snapshotIndex;
  }

  private void resetState(State s) {
    state = s;
    probeSent = false;
    pendingSnapshot = 0;
    inflights.reset();
  }

  /** Records an acknowledgement up to {@code index}; false if it is stale. */
  boolean maybeUpdate(long index) {
    boolean updated = false;
    if (match < index) {
      match = index;
      updated = true;
      probeSent = false;
    }
    next = Math.max(next, index + 1);
    return updated;
  }

  /**
   * Handles a rejected APPEND whose preceding index was {@code rejected}; {@code matchHint} is the
   * highest index that may still match. Returns false if the rejection is stale (out of order).
   */
  boolean maybeDecreaseTo(long rejected, long matchHint) {
    if (state == State.REPLICATE) {
      if (rejected <= match) {
        return false;
      }
      next = match + 1;
      return true;
    }
    if (next - 1 != rejected) {
      return false;
    }
    next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
    probeSent = false;
    return true;
  }

  boolean isPaused() {
    return switch (state) {
      case PROBE -> probeSent;
      case REPLICATE -> inflights.full();
      case SNAPSHOT -> true;
    };
  }

  @Override
  public String toString() {
    return state + " match=" + match + " next=" + next + (learner ? " learner" : "");
  }
}

package dev.kubelite.store.raft;

/**
 * The part of a node's state that must be on stable storage before it answers anyone: the current
 * term, whom it voted for in that term, and the highest index it knows to be committed.
 */
public record HardState(long term, long vote, long commit) {
  public static final HardState EMPTY = new HardState(0, 0, 0);

  public boolean isEmpty() {
    return term == 0 && vote == 0 && commit == 0;
  }
}

package dev.kubelite.store.raft;

/** What became of a proposal handed to a node. Only ACCEPTED/FORWARDED may ever commit. */
public enum ProposeResult {
  /** The leader appended it to its log. */
  ACCEPTED,
  /** A follower forwarded it to the leader it knows; it may still be lost on the way. */
  FORWARDED,
  DROPPED_NO_LEADER,
  DROPPED_LEADERSHIP_TRANSFER,
  /** A membership change is already in progress; retry after it is applied. */
  DROPPED_CONF_CHANGE_PENDING,
  /** A membership change that makes no sense for the current membership. */
  DROPPED_INVALID_CONF_CHANGE,
  /** This node was removed from the cluster. */
  DROPPED_NOT_MEMBER;

  public boolean accepted() {
    return this == ACCEPTED || this == FORWARDED;
  }
}

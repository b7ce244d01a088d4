package dev.kubelite.store.raft;

/** Raft message kinds. The LOCAL ones never cross the network: a node steps them into itself. */
public enum MessageType {
  /** Local: start an election now. */
  HUP,
  /** Local: leader sends heartbeats now. */
  BEAT,
  /** Local: leader checks it heard from a quorum within the last election timeout. */
  CHECK_QUORUM,
  /** Proposal of new entries; followers forward it to the leader. */
  PROPOSE,
  APPEND,
  APPEND_RESPONSE,
  VOTE,
  VOTE_RESPONSE,
  PRE_VOTE,
  PRE_VOTE_RESPONSE,
  SNAPSHOT,
  HEARTBEAT,
  HEARTBEAT_RESPONSE,
  /** Local, from the driver: whether sending a snapshot to {@code from} succeeded. */
  SNAPSHOT_STATUS,
  /** Local, from the driver: {@code from} could not be reached. */
  UNREACHABLE,
  /** Ask the leader to hand leadership to {@code from}. */
  TRANSFER_LEADER,
  /** Leader to the transfer target: campaign now, skipping pre-vote. */
  TIMEOUT_NOW,
  READ_INDEX,
  READ_INDEX_RESPONSE;

  public boolean isLocal() {
    return this == HUP
        || this == BEAT
        || this == CHECK_QUORUM
        || this == SNAPSHOT_STATUS
        || this == UNREACHABLE;
  }

  /** Response type a vote request of this type expects. */
  public MessageType voteResponse() {
    return switch (this) {
      case VOTE -> VOTE_RESPONSE;
      case PRE_VOTE -> PRE_VOTE_RESPONSE;
      default -> throw new IllegalStateException(this + " is not a vote request");
    };
  }
}

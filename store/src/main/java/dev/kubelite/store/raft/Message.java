package dev.kubelite.store.raft;

import java.util.List;
import java.util.Objects;

/**
 * A Raft message. One shape for all kinds; which fields matter depends on {@link #type()}:
 *
 * <ul>
 *   <li>APPEND: {@code index}/{@code logTerm} identify the entry preceding {@code entries}; {@code
 *       commit} is the leader's commit index.
 *   <li>APPEND_RESPONSE: {@code index} is the last index now matching (or the rejected probe index
 *       when {@code reject}); a rejection carries {@code rejectHint}/{@code logTerm}, the
 *       follower's best guess of where logs diverge, for fast backtracking.
 *   <li>VOTE / PRE_VOTE: {@code index}/{@code logTerm} are the candidate's last entry.
 *   <li>HEARTBEAT / READ_INDEX / READ_INDEX_RESPONSE: {@code context} identifies a read request.
 * </ul>
 */
public record Message(
    MessageType type,
    long from,
    long to,
    long term,
    long logTerm,
    long index,
    List<Entry> entries,
    long commit,
    Snapshot snapshot,
    boolean reject,
    long rejectHint,
    byte[] context) {

  public Message {
    Objects.requireNonNull(type, "type");
    entries = entries == null ? List.of() : entries;
  }

  public static Builder builder(MessageType type) {
    return new Builder(type);
  }

  public Builder toBuilder() {
    Builder b = new Builder(type);
    b.from = from;
    b.to = to;
    b.term = term;
    b.logTerm = logTerm;
    b.index = index;
    b.entries = entries;
    b.commit = commit;
    b.snapshot = snapshot;
    b.reject = reject;
    b.rejectHint = rejectHint;
    b.context = context;
    return b;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Message m
        && m.type == type
        && m.from == from
        && m.to == to
        && m.term == term
        && m.logTerm == logTerm
        && m.index == index
        && m.entries.equals(entries)
        && m.commit == commit
        && Objects.equals(m.snapshot, snapshot)
        && m.reject == reject
        && m.rejectHint == rejectHint
        && java.util.Arrays.equals(m.context, context);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, from, to, term, index, commit);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(type).append(' ').append(from).append("->").append(to).append(" t").append(term);
    if (type == MessageType.APPEND
        || type == MessageType.VOTE
        || type == MessageType.PRE_VOTE
        || type == MessageType.APPEND_RESPONSE) {
      sb.append(" idx=").append(index).append(" logTerm=").append(logTerm);
    }
    if (!entries.isEmpty()) {
      sb.append(" ents=")
          .append(entries.get(0).index())
          .append("..")
          .append(entries.get(entries.size() - 1).index());
    }
    if (commit != 0) {
      sb.append(" commit=").append(commit);
    }
    if (reject) {
      sb.append(" REJECT hint=").append(rejectHint);
    }
    if (snapshot != null) {
      sb.append(" snap=").append(snapshot.index()).append('@').append(snapshot.term());
    }
    return sb.toString();
  }

  /** Mutable builder; messages themselves are immutable. */
  public static final class Builder {
    private final MessageType type;
    private long from;
    private long to;
    private long term;
    private long logTerm;
    private long index;
    private List<Entry> entries = List.of();
    private long commit;
    private Snapshot snapshot;
    private boolean reject;
    private long rejectHint;
    private byte[] context;

    private Builder(MessageType type) {
      this.type = type;
    }

    public Builder from(long v) {
      from = v;
      return this;
    }

    public Builder to(long v) {
      to = v;
      return this;
    }

    public Builder term(long v) {
      term = v;
      return this;
    }

    public Builder logTerm(long v) {
      logTerm = v;
      return this;
    }

    public Builder index(long v) {
      index = v;
      return this;
    }

    public Builder entries(List<Entry> v) {
      entries = v;
      return this;
    }

    public Builder commit(long v) {
      commit = v;
      return this;
    }

    public Builder snapshot(Snapshot v) {
      snapshot = v;
      return this;
    }

    public Builder reject(boolean v) {
      reject = v;
      return this;
    }

    public Builder rejectHint(long v) {
      rejectHint = v;
      return this;
    }

    public Builder context(byte[] v) {
      context = v;
      return this;
    }

    public Message build() {
      return new Message(
          type,
          from,
          to,
          term,
          logTerm,
          index,
          entries,
          commit,
          snapshot,
          reject,
          rejectHint,
          context);
    }
  }
}

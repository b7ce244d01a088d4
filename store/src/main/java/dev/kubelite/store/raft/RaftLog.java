package dev.kubelite.store.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's log: what stable storage already holds, followed by the "unstable" tail — entries (or a
 * snapshot received from the leader) that the node has accepted but the driver has not yet
 * persisted. The unstable tail is handed out in {@link Ready} and dropped from here once the driver
 * reports it stable.
 */
final class RaftLog {
  private final RaftStorage storage;

  /** A snapshot from the leader, not yet persisted; when set, it precedes {@code unstable}. */
  private Snapshot pendingSnapshot;

  /** Index of {@code unstable.get(0)}. */
  private long unstableOffset;

  private final ArrayList<Entry> unstable = new ArrayList<>();

  long committed;
  long applied;

  RaftLog(RaftStorage storage) {
    this.storage = storage;
    this.unstableOffset = storage.lastIndex() + 1;
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  long firstIndex() {
    return pendingSnapshot != null ? pendingSnapshot.index() + 1 : storage.firstIndex();
  }

  long lastIndex() {
    if (!unstable.isEmpty()) {
      return unstableOffset + unstable.size() - 1;
    }
    return pendingSnapshot != null ? pendingSnapshot.index() : storage.lastIndex();
  }

  /**
   * The last index already on stable storage (the node counts itself for commit only up to here).
   */
  long lastStableIndex() {
    return pendingSnapshot != null ? pendingSnapshot.index() : unstableOffset - 1;
  }

  long lastTerm() {
    return term(lastIndex());
  }

  /** Term at {@code index}, or {@link RaftStorage#UNKNOWN_TERM} if compacted or beyond the end. */
  long term(long index) {
    if (index > lastIndex()) {
      return RaftStorage.UNKNOWN_TERM;
    }
    if (index >= unstableOffset && !unstable.isEmpty()) {
      return unstable.get((int) (index - unstableOffset)).term();
    }
    if (pendingSnapshot != null) {
      return index == pendingSnapshot.index() ? pendingSnapshot.term() : RaftStorage.UNKNOWN_TERM;
    }
    return storage.term(index);
  }

  boolean matchTerm(long index, long term) {
    long t = term(index);
    return t != RaftStorage.UNKNOWN_TERM && t == term;
  }

  /**
   * Whether a candidate whose log ends at ({@code lastIndex}, {@code lastTerm}) is at least as up
   * to date.
   */
  boolean isUpToDate(long candidateLastIndex, long candidateLastTerm) {
    long myTerm = lastTerm();
    return candidateLastTerm > myTerm
        || (candidateLastTerm == myTerm && candidateLastIndex >= lastIndex());
  }

  /**
   * Appends entries from the leader after ({@code prevIndex}, {@code prevTerm}) if that position
   * matches, truncating a conflicting suffix. Returns the index of the last new entry, or -1 if the
   * position does not match.
   */
  long maybeAppend(long prevIndex, long prevTerm, long leaderCommit, List<Entry> entries) {
    if (!matchTerm(prevIndex, prevTerm)) {
      return -1;
    }
    long lastNew = prevIndex + entries.size();
    long conflict = findConflict(entries);
    if (conflict != 0) {
      if (conflict <= committed) {
        throw new IllegalStateException(
            "entry " + conflict + " conflicts with committed prefix up to " + committed);
      }
      append(entries.subList((int) (conflict - (prevIndex + 1)), entries.size()));
    }
    commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /**
   * The first index among {@code entries} whose term differs from ours (or that we lack), or 0 if
   * we already hold them all.
   */
  private long findConflict(List<Entry> entries) {
    for (Entry e : entries) {
      if (!matchTerm(e.index(), e.term())) {
        return e.index();
      }
    }
    return 0;
  }

  /**
   * The highest index at or below {@code index} whose term is at most {@code term}: no entry above
   * it can match a log whose entry at {@code index} has {@code term}. Used to skip whole terms when
   * a follower rejects an APPEND.
   */
  long findConflictByTerm(long index, long term) {
    for (long i = Math.min(index, lastIndex()); i > 0; i--) {
      long t = term(i);
      if (t == RaftStorage.UNKNOWN_TERM || t <= term) {
        return i;
      }
    }
    return 0;
  }

  /**
   * Appends entries (the first may overwrite an unstable or stable suffix). Returns the new last
   * index.
   */
  long append(List<Entry> entries) {
    if (entries.isEmpty()) {
      return lastIndex();
    }
    long first = entries.get(0).index();
    if (first - 1 < committed) {
      throw new IllegalStateException(
          "append at " + first + " would overwrite committed " + committed);
    }
    if (first == unstableOffset + unstable.size()) {
      unstable.addAll(entries);
    } else if (first <= unstableOffset) {
      // Replaces (part of) what storage holds: the driver's save() truncates storage accordingly.
      unstableOffset = first;
      unstable.clear();
      unstable.addAll(entries);
    } else {
      int keep = (int) (first - unstableOffset);
      while (unstable.size() > keep) {
        unstable.remove(unstable.size() - 1);
      }
      unstable.addAll(entries);
    }
    return lastIndex();
  }

  void commitTo(long index) {
    if (index > committed) {
      if (index > lastIndex()) {
        throw new IllegalStateException(
            "commit " + index + " is beyond the last index " + lastIndex() + " (log lost?)");
      }
      committed = index;
    }
  }

  /**
   * Entries in {@code [lo, lastIndex]}, at most roughly {@code maxBytes}; null if {@code lo} is
   * compacted.
   */
  List<Entry> entriesFrom(long lo, long maxBytes) {
    if (lo > lastIndex()) {
      return List.of();
    }
    return slice(lo, lastIndex() + 1, maxBytes);
  }

  /** Entries in {@code [lo, hi)}; null if part of the range is compacted away. */
  List<Entry> slice(long lo, long hi, long maxBytes) {
    if (lo < firstIndex()) {
      return null;
    }
    List<Entry> out = new ArrayList<>();
    long size = 0;
    if (lo < unstableOffset) {
      long storageHi = Math.min(hi, unstableOffset);
      List<Entry> stored = storage.entries(lo, storageHi, maxBytes);
      out.addAll(stored);
      for (Entry e : stored) {
        size += e.sizeBytes();
      }
      if (stored.size() < storageHi - lo) {
        return out; // size limit reached
      }
    }
    for (long i = Math.max(lo, unstableOffset); i < hi; i++) {
      Entry e = unstable.get((int) (i - unstableOffset));
      size += e.sizeBytes();
      if (!out.isEmpty() && size > maxBytes) {
        break;
      }
      out.add(e);
    }
    return out;
  }

  boolean hasNextCommittedEntries() {
    return committed > applied && !hasPendingSnapshot();
  }

  List<Entry> nextCommittedEntries(long maxBytes) {
    if (!hasNextCommittedEntries()) {
      return List.of();
    }
    long lo = Math.max(applied + 1, firstIndex());
    return slice(lo, committed + 1, maxBytes);
  }

  void appliedTo(long index) {
    if (index > committed || index < applied) {
      throw new IllegalStateException(
          "applied " + index + " outside [" + applied + ", committed " + committed + "]");
    }
    applied = index;
  }

  boolean hasUnstableEntries() {
    return !unstable.isEmpty();
  }

  List<Entry> unstableEntries() {
    return List.copyOf(unstable);
  }

  Snapshot pendingSnapshot() {
    return pendingSnapshot;
  }

  boolean hasPendingSnapshot() {
    return pendingSnapshot != null;
  }

  /**
   * The driver persisted entries up to ({@code index}, {@code term}): drop them from the unstable
   * tail.
   */
  void stableTo(long index, long term) {
    if (unstable.isEmpty() || index < unstableOffset || index >= unstableOffset + unstable.size()) {
      return;
    }
    if (unstable.get((int) (index - unstableOffset)).term() != term) {
      return; // overwritten meanwhile; the newer entries are still unstable
    }
    int n = (int) (index - unstableOffset + 1);
    unstable.subList(0, n).clear();
    unstableOffset = index + 1;
  }

  void stableSnapshotTo(long index) {
    if (pendingSnapshot != null && pendingSnapshot.index() == index) {
      pendingSnapshot = null;
    }
  }

  /** Replaces the whole log by a snapshot from the leader. */
  void restore(Snapshot snapshot) {
    pendingSnapshot = snapshot;
    unstable.clear();
    unstableOffset = snapshot.index() + 1;
    committed = snapshot.index();
  }

  /** The latest snapshot: a pending one, else what storage holds. */
  Snapshot snapshot() {
    return pendingSnapshot != null ? pendingSnapshot : storage.snapshot();
  }

  @Override
  public String toString() {
    return "log[first="
        + firstIndex()
        + " last="
        + lastIndex()
        + " stable="
        + lastStableIndex()
        + " committed="
        + committed
        + " applied="
        + applied
        + "]";
  }
}

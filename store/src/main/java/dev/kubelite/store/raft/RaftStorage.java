package dev.kubelite.store.raft;

import java.util.List;

/**
 * The read side of a node's stable storage, as the consensus core sees it: the latest snapshot and
 * the entries {@code firstIndex()..lastIndex()}. Entries up to {@code firstIndex()-1} were
 * compacted away (that position is at or below the snapshot's index), but the term of that last
 * compacted position is kept, so {@code term(firstIndex()-1)} always answers.
 */
public interface RaftStorage {

  /**
   * Returned by {@link #term(long)} for an index that is compacted away or beyond the last entry.
   */
  long UNKNOWN_TERM = -1;

  /** The hard state and the membership of the latest snapshot, as last persisted. */
  HardState hardState();

  /** The most recent snapshot (index 0 and empty when there is none). */
  Snapshot snapshot();

  /** Index of the first entry still present (one past the last compacted position). */
  long firstIndex();

  /** Index of the last entry, or the snapshot index when no entry follows it. */
  long lastIndex();

  /**
   * Term of the entry at {@code index}, for {@code firstIndex()-1 <= index <= lastIndex()}; {@link
   * #UNKNOWN_TERM} outside that range.
   */
  long term(long index);

  /**
   * Entries in {@code [lo, hi)}, which must lie within {@code [firstIndex(), lastIndex()+1]}. Stops
   * before {@code maxBytes} would be exceeded, but always returns at least one entry if any is
   * asked.
   */
  List<Entry> entries(long lo, long hi, long maxBytes);
}

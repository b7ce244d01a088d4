package dev.kubelite.store.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * Stable storage held in memory. The simulation uses it as each node's "disk": whatever a driver
 * saved here survives a simulated crash, everything else is lost. Not thread-safe.
 */
public final class MemoryRaftStorage implements RaftLogStorage {
  private HardState hardState = HardState.EMPTY;
  private Snapshot snapshot = Snapshot.EMPTY;
  // entries.get(0) is the dummy entry at the last compacted position; real entries follow it.
  private final ArrayList<Entry> entries = new ArrayList<>();

  public MemoryRaftStorage() {
    entries.add(Entry.normal(0, 0, null));
  }

  @Override
  public HardState hardState() {
    return hardState;
  }

  @Override
  public Snapshot snapshot() {
    return snapshot;
  }

  @Override
  public long firstIndex() {
    return entries.get(0).index() + 1;
  }

  @Override
  public long lastIndex() {
    return entries.get(0).index() + entries.size() - 1;
  }

  @Override
  public long term(long index) {
    long offset = entries.get(0).index();
    if (index < offset || index > lastIndex()) {
      return UNKNOWN_TERM;
    }
    return entries.get((int) (index - offset)).term();
  }

  @Override
  public List<Entry> entries(long lo, long hi, long maxBytes) {
    if (lo < firstIndex() || hi > lastIndex() + 1 || lo > hi) {
      throw new IllegalArgumentException(
          "entries [" + lo + "," + hi + ") outside [" + firstIndex() + "," + lastIndex() + "]");
    }
    long offset = entries.get(0).index();
    List<Entry> out = new ArrayList<>();
    long size = 0;
    for (long i = lo; i < hi; i++) {
      Entry e = entries.get((int) (i - offset));
      size += e.sizeBytes();
      if (!out.isEmpty() && size > maxBytes) {
        break;
      }
      out.add(e);
    }
    return out;
  }

  @Override
  public void save(HardState newHardState, List<Entry> newEntries, Snapshot newSnapshot) {
    if (newSnapshot != null && !newSnapshot.isEmpty()) {
      installSnapshot(newSnapshot);
    }
    if (newEntries != null && !newEntries.isEmpty()) {
      append(newEntries);
    }
    if (newHardState != null && !newHardState.isEmpty()) {
      hardState = newHardState;
    }
  }

  @Override
  public void compact(Snapshot newSnapshot, long compactIndex) {
    if (newSnapshot.index() < snapshot.index()) {
      return; // an older snapshot than the one we hold; nothing to do
    }
    if (newSnapshot.index() > lastIndex() || compactIndex > newSnapshot.index()) {
      throw new IllegalArgumentException(
          "snapshot at "
              + newSnapshot.index()
              + " compacting to "
              + compactIndex
              + " beyond last index "
              + lastIndex());
    }
    snapshot = newSnapshot;
    long offset = entries.get(0).index();
    if (compactIndex <= offset) {
      return;
    }
    Entry dummy = Entry.normal(term(compactIndex), compactIndex, null);
    List<Entry> kept =
        new ArrayList<>(entries.subList((int) (compactIndex - offset + 1), entries.size()));
    entries.clear();
    entries.add(dummy);
    entries.addAll(kept);
  }

  private void installSnapshot(Snapshot newSnapshot) {
    snapshot = newSnapshot;
    entries.clear();
    entries.add(Entry.normal(newSnapshot.term(), newSnapshot.index(), null));
  }

  private void append(List<Entry> newEntries) {
    long first = newEntries.get(0).index();
    long offset = entries.get(0).index();
    if (first <= offset) {
      // Entries at or below the compaction point are already covered by the snapshot.
      newEntries = newEntries.stream().filter(e -> e.index() > offset).toList();
      if (newEntries.isEmpty()) {
        return;
      }
      first = newEntries.get(0).index();
    }
    if (first > lastIndex() + 1) {
      throw new IllegalArgumentException(
          "append at " + first + " leaves a gap after last index " + lastIndex());
    }
    int keep = (int) (first - offset);
    while (entries.size() > keep) {
      entries.remove(entries.size() - 1);
    }
    entries.addAll(newEntries);
  }

  /** A deep copy, used by the simulation to take what a crash leaves behind. */
  public MemoryRaftStorage copy() {
    MemoryRaftStorage c = new MemoryRaftStorage();
    c.hardState = hardState;
    c.snapshot = snapshot;
    c.entries.clear();
    c.entries.addAll(entries);
    return c;
  }
}

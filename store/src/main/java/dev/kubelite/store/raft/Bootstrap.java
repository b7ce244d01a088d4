package dev.kubelite.store.raft;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Founding a new cluster. Every founding member writes the same first entries — one ADD_VOTER per
 * member, at term 1, already committed — so their logs agree from the start, and a member added
 * later learns the founding membership by replicating the log like any other entry.
 */
public final class Bootstrap {
  private Bootstrap() {}

  public static void initialize(RaftLogStorage storage, Collection<Long> voters) {
    Map<Long, byte[]> withoutContext = new TreeMap<>();
    voters.forEach(v -> withoutContext.put(v, null));
    initialize(storage, withoutContext);
  }

  /** Founds a cluster whose members' change entries carry {@code contexts} (member attributes). */
  public static void initialize(RaftLogStorage storage, Map<Long, byte[]> votersWithContext) {
    Collection<Long> voters = votersWithContext.keySet();
    if (storage.lastIndex() != 0 || !storage.hardState().isEmpty()) {
      throw new IllegalStateException(
          "storage already holds a log (last index "
              + storage.lastIndex()
              + "); bootstrap only an empty data dir");
    }
    if (voters.isEmpty()) {
      throw new IllegalArgumentException("a cluster needs at least one voter");
    }
    List<Entry> entries = new ArrayList<>();
    long index = 0;
    for (long id : new TreeSet<>(voters)) {
      ConfChange add = new ConfChange(ConfChange.Type.ADD_VOTER, id, votersWithContext.get(id));
      entries.add(new Entry(1, ++index, Entry.Type.CONF_CHANGE, add.encode()));
    }
    storage.save(new HardState(1, RaftNode.NONE, index), entries, null);
  }
}

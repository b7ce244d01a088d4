package dev.kubelite.store.mvcc;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * In-memory key index, like etcd's treeIndex: key -> generations of revisions. A generation is one
 * life of a key from creation to deletion; a deleted generation ends with its tombstone revision.
 * Not thread-safe: {@link MvccStore} mutates it only under its write lock.
 */
final class KeyIndex {

  static final class Generation {
    final ArrayList<Rev> revs = new ArrayList<>();
    boolean tombstoned;

    Rev last() {
      return revs.get(revs.size() - 1);
    }
  }

  static final class History {
    final ArrayList<Generation> gens = new ArrayList<>();

    /** Lease of the live version (0 if none or deleted). */
    long lease;

    boolean live() {
      return !gens.isEmpty() && !gens.get(gens.size() - 1).tombstoned;
    }
  }

  private final TreeMap<byte[], History> keys = new TreeMap<>(Bytes.ORDER);

  void put(byte[] key, Rev rev, long lease) {
    History h = keys.computeIfAbsent(key, k -> new History());
    if (h.gens.isEmpty() || h.gens.get(h.gens.size() - 1).tombstoned) {
      h.gens.add(new Generation());
    }
    h.gens.get(h.gens.size() - 1).revs.add(rev);
    h.lease = lease;
  }

  void tombstone(byte[] key, Rev rev) {
    History h = keys.computeIfAbsent(key, k -> new History());
    if (h.gens.isEmpty() || h.gens.get(h.gens.size() - 1).tombstoned) {
      // Only after compaction: the key's earlier revisions are gone, its tombstone was kept.
      h.gens.add(new Generation());
    }
    Generation g = h.gens.get(h.gens.size() - 1);
    g.revs.add(rev);
    g.tombstoned = true;
    h.lease = 0;
  }

  /** The revision holding key's value at main revision {@code at}, or null if absent then. */
  Rev get(byte[] key, long at) {
    History h = keys.get(key);
    return h == null ? null : find(h, at);
  }

  private static Rev find(History h, long at) {
    for (int gi = h.gens.size() - 1; gi >= 0; gi--) {
      Generation g = h.gens.get(gi);
      if (g.revs.get(0).main() > at) {
        continue;
      }
      int i = lastAtOrBefore(g.revs, at);
      if (g.tombstoned && i == g.revs.size() - 1) {
        return null;
      }
      return g.revs.get(i);
    }
    return null;
  }

  private static int lastAtOrBefore(List<Rev> revs, long at) {
    int lo = 0;
    int hi = revs.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (revs.get(mid).main() <= at) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** Visits every live key that has a lease. */
  void forEachLiveLease(BiConsumer<byte[], Long> visitor) {
    for (Map.Entry<byte[], History> e : keys.entrySet()) {
      if (e.getValue().live() && e.getValue().lease != 0) {
        visitor.accept(e.getKey(), e.getValue().lease);
      }
    }
  }

  /** Live lease of a key, 0 if none. */
  long lease(byte[] key) {
    History h = keys.get(key);
    return h == null || !h.live() ? 0 : h.lease;
  }

  private NavigableMap<byte[], History> slice(byte[] key, byte[] end) {
    if (end.length == 0) {
      return keys.containsKey(key)
          ? keys.subMap(key, true, key, true)
          : new TreeMap<byte[], History>(Bytes.ORDER);
    }
    if (Bytes.isFromKey(end)) {
      return keys.tailMap(key, true);
    }
    if (Bytes.ORDER.compare(key, end) >= 0) {
      return new TreeMap<byte[], History>(Bytes.ORDER);
    }
    return keys.subMap(key, true, end, false);
  }

  /**
   * Visits keys live at {@code at} in the range, in key order, up to {@code limit} (0 = all, -1 =
   * none, only count); returns the total number of live keys in the range.
   */
  long range(byte[] key, byte[] end, long at, long limit, BiConsumer<byte[], Rev> visitor) {
    long total = 0;
    for (Map.Entry<byte[], History> e : slice(key, end).entrySet()) {
      Rev r = find(e.getValue(), at);
      if (r == null) {
        continue;
      }
      if (limit == 0 || total < limit) {
        visitor.accept(e.getKey(), r);
      }
      total++;
    }
    return total;
  }

  /**
   * Compaction at {@code at}: for each key keep its latest revision <= at and everything after; a
   * kept tombstone is dropped too unless its revision is exactly {@code at} (etcd 3.5.16+, so a
   * watcher starting at the compact revision still sees that delete). Removed revisions go to
   * {@code removed}. With {@code apply} false nothing changes (a dry run to plan the deletes).
   */
  void compact(long at, boolean apply, List<Rev> removed) {
    var it = keys.entrySet().iterator();
    while (it.hasNext()) {
      History h = it.next().getValue();
      int gi = -1;
      int ri = -1;
      for (int g = h.gens.size() - 1; g >= 0 && gi < 0; g--) {
        List<Rev> revs = h.gens.get(g).revs;
        if (revs.get(0).main() <= at) {
          gi = g;
          ri = lastAtOrBefore(revs, at);
        }
      }
      if (gi < 0) {
        continue;
      }
      for (int g = 0; g < gi; g++) {
        removed.addAll(h.gens.get(g).revs);
      }
      Generation keep = h.gens.get(gi);
      removed.addAll(keep.revs.subList(0, ri));
      boolean dropTomb =
          keep.tombstoned && ri == keep.revs.size() - 1 && keep.revs.get(ri).main() < at;
      if (dropTomb) {
        removed.add(keep.revs.get(ri));
      }
      if (!apply) {
        continue;
      }
      keep.revs.subList(0, ri).clear();
      h.gens.subList(0, gi).clear();
      if (dropTomb) {
        h.gens.remove(0);
      }
      if (h.gens.isEmpty()) {
        it.remove();
      }
    }
  }
}

package dev.kubelite.store.raft.wal;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.Snapshot;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Child process for {@link SegmentedRaftLogCrashTest}: appends batches forever and prints {@code
 * ACK <lastIndex>} after each save() returns, until it is killed. Entry data is a pure function of
 * the index, so the parent can check it without talking to the child.
 *
 * <p>Arguments: directory, term, seed.
 */
public final class SegmentedRaftLogCrashChild {
  static final long SEGMENT_BYTES = 64 * 1024;
  static final int KEEP_ENTRIES = 500;

  private SegmentedRaftLogCrashChild() {}

  static byte[] dataFor(long index) {
    Random r = new Random(index * 0x9E3779B97F4A7C15L);
    // Now and then an entry larger than the write buffer, so that a batch takes several write
    // calls and a kill can leave a partial batch behind.
    int size = index % 251 == 0 ? (3 << 19) : 8 + r.nextInt(120);
    byte[] data = new byte[size];
    r.nextBytes(data);
    return data;
  }

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    long term = Long.parseLong(args[1]);
    Random rnd = new Random(Long.parseLong(args[2]));
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, SEGMENT_BYTES)) {
      out.println("READY " + log.lastIndex());
      out.flush();
      long sinceCompaction = 0;
      while (true) {
        long next = log.lastIndex() + 1;
        int n = 1 + rnd.nextInt(40);
        List<Entry> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          batch.add(Entry.normal(term, next + i, dataFor(next + i)));
        }
        log.save(new HardState(term, 1, next - 1), batch, null);
        out.println("ACK " + log.lastIndex());
        out.flush();
        sinceCompaction += n;
        if (sinceCompaction > 2 * KEEP_ENTRIES) {
          long snapIndex = log.lastIndex() - KEEP_ENTRIES / 2;
          Snapshot s =
              new Snapshot(
                  snapIndex,
                  log.term(snapIndex),
                  new ConfState(Set.of(1L), Set.of()),
                  ("state@" + snapIndex).getBytes(StandardCharsets.UTF_8));
          log.compact(s, snapIndex - KEEP_ENTRIES / 2);
          sinceCompaction = 0;
        }
      }
    }
  }
}

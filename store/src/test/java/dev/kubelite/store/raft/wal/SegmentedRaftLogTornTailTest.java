package dev.kubelite.store.raft.wal;

import static dev.kubelite.store.raft.wal.WalTestSupport.assertSameView;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.MemoryRaftStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A crash mid-write leaves a torn tail in the last segment. Recovery must yield exactly the state
 * after the last intact save() call, truncate the file there, and keep working afterwards.
 */
class SegmentedRaftLogTornTailTest {
  private static final long BIG_SEGMENTS = 1 << 20;
  private static final int TAIL_SAVES = 6;

  @TempDir Path tmp;

  /** A log directory whose last segment ends with TAIL_SAVES saves of known extent. */
  private record Tail(Path dir, String lastSegment, long[] ends, MemoryRaftStorage[] states) {
    /** The state after the last save that ends at or before {@code offset}. */
    int intactPrefix(long offset) {
      int i = 0;
      while (i + 1 < ends.length && ends[i + 1] <= offset) {
        i++;
      }
      return i;
    }
  }

  private Tail buildTail(long seed) throws IOException {
    Random rnd = new Random(seed);
    Path dir = tmp.resolve("base");
    MemoryRaftStorage ref = new MemoryRaftStorage();
    WalTestSupport.OpGenerator gen = new WalTestSupport.OpGenerator(rnd);
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 300 + rnd.nextInt(1500))) {
      for (int i = 0; i < 60; i++) {
        gen.step(log, ref); // history with snapshots, compactions and rollovers
      }
    }
    long[] ends = new long[TAIL_SAVES + 1];
    MemoryRaftStorage[] states = new MemoryRaftStorage[TAIL_SAVES + 1];
    Path last;
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, BIG_SEGMENTS)) {
      List<Path> segs = WalTestSupport.segmentFiles(dir);
      last = segs.get(segs.size() - 1);
      ends[0] = Files.size(last);
      states[0] = ref.copy();
      for (int k = 1; k <= TAIL_SAVES; k++) {
        gen.save(log, ref); // entries (appends and suffix overwrites) and hard states only
        ends[k] = Files.size(last);
        states[k] = ref.copy();
      }
    }
    assertThat(WalTestSupport.segmentFiles(dir)).last().isEqualTo(last);
    return new Tail(dir, last.getFileName().toString(), ends, states);
  }

  /** Recovers a damaged copy, checks it against the expected prefix, then appends and reopens. */
  private void recoverAndCheck(Tail t, Path copy, String what) throws IOException {
    Path seg = copy.resolve(t.lastSegment());
    long damagedAt = -1;
    MemoryRaftStorage expected;
    int prefix;
    // The caller damaged the file; the expected state is decided by where the damage starts.
    damagedAt = Long.parseLong(Files.readString(copy.resolve("damage-offset")));
    Files.delete(copy.resolve("damage-offset"));
    prefix = t.intactPrefix(damagedAt);
    expected = t.states()[prefix].copy();
    try (SegmentedRaftLog log = SegmentedRaftLog.open(copy, BIG_SEGMENTS)) {
      assertSameView(log, expected, what + " recovered to save #" + prefix);
      assertThat(Files.size(seg)).as("%s truncated", what).isEqualTo(t.ends()[prefix]);
      long next = expected.lastIndex() + 1;
      List<Entry> more =
          List.of(Entry.normal(1000, next, new byte[] {1, 2}), Entry.normal(1000, next + 1, null));
      HardState hs = new HardState(1000, 2, expected.hardState().commit());
      log.save(hs, more, null);
      expected.save(hs, more, null);
    }
    try (SegmentedRaftLog log = SegmentedRaftLog.open(copy, BIG_SEGMENTS)) {
      assertSameView(log, expected, what + " appended after recovery and reopened");
    }
  }

  private Path damagedCopy(Tail t, String name, long damageOffset) throws IOException {
    Path copy = tmp.resolve(name);
    WalTestSupport.copyDir(t.dir(), copy);
    Files.writeString(copy.resolve("damage-offset"), Long.toString(damageOffset));
    return copy;
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void cutAtAnyOffsetRecoversTheLastIntactSave(long seed) throws IOException {
    Tail t = buildTail(seed);
    long start = t.ends()[0];
    long end = t.ends()[TAIL_SAVES];
    TreeSet<Long> offsets = new TreeSet<>();
    for (long c = t.ends()[TAIL_SAVES - 2]; c < end; c++) {
      offsets.add(c); // every byte of the last two saves
    }
    Random rnd = new Random(seed * 31);
    for (int i = 0; i < 60 && end - start > 0; i++) {
      offsets.add(start + rnd.nextLong(end - start)); // a sample of the rest
    }
    for (long c : offsets) {
      Path copy = damagedCopy(t, "cut-" + c, c);
      try (FileChannel ch =
          FileChannel.open(copy.resolve(t.lastSegment()), StandardOpenOption.WRITE)) {
        ch.truncate(c);
      }
      recoverAndCheck(t, copy, "seed " + seed + " cut at " + c);
      WalTestSupport.deleteDir(copy);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {11, 12, 13})
  void flippedByteInTheTailRecoversTheLastIntactSave(long seed) throws IOException {
    Tail t = buildTail(seed);
    long start = t.ends()[0];
    long end = t.ends()[TAIL_SAVES];
    Random rnd = new Random(seed * 17);
    for (int i = 0; i < 60; i++) {
      long p = start + rnd.nextLong(end - start);
      Path copy = damagedCopy(t, "flip-" + i, p);
      Path seg = copy.resolve(t.lastSegment());
      try (FileChannel ch =
          FileChannel.open(seg, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.allocate(1);
        ch.read(b, p);
        b.put(0, (byte) (b.get(0) ^ (1 + rnd.nextInt(255))));
        b.rewind();
        ch.write(b, p);
      }
      recoverAndCheck(t, copy, "seed " + seed + " flip at " + p);
      WalTestSupport.deleteDir(copy);
    }
  }

  @Test
  void zeroFilledTailIsCutOff() throws IOException {
    Tail t = buildTail(21);
    long end = t.ends()[TAIL_SAVES];
    Path copy = damagedCopy(t, "zeros", end);
    Files.write(copy.resolve(t.lastSegment()), new byte[4096], StandardOpenOption.APPEND);
    recoverAndCheck(t, copy, "zero-filled tail");
  }

  @Test
  void segmentTornWhileBeingCreatedIsRemoved() throws IOException {
    Tail t = buildTail(22);
    long end = t.ends()[TAIL_SAVES];
    Path copy = damagedCopy(t, "new-segment", end);
    long seq = Long.parseLong(t.lastSegment().substring(0, 20));
    Path torn = copy.resolve(String.format("%020d.wal", seq + 1));
    Files.write(torn, new byte[] {0, 0, 1, 7, 9}); // part of a header
    recoverAndCheck(t, copy, "torn new segment");
    assertThat(torn).doesNotExist();
    List<Path> segs = new ArrayList<>(WalTestSupport.segmentFiles(copy));
    assertThat(segs).last().isEqualTo(copy.resolve(t.lastSegment()));
  }
}

package dev.kubelite.store.raft.wal;

import static dev.kubelite.store.raft.wal.WalTestSupport.assertSameView;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.MemoryRaftStorage;
import dev.kubelite.store.raft.Snapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential test: a SegmentedRaftLog and a MemoryRaftStorage driven with the same random calls
 * must show the same view after every call and after every reopen.
 */
class SegmentedRaftLogRandomizedTest {
  @TempDir Path tmp;

  static List<Long> seeds() {
    long base = Long.getLong("wal.seed", 20261121L);
    int n = Integer.getInteger("wal.seeds", 24);
    return java.util.stream.LongStream.range(base, base + n).boxed().toList();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void matchesMemoryStorageAcrossReopens(long seed) {
    Random rnd = new Random(seed);
    long segmentBytes = 200 + rnd.nextInt(2000); // tiny: many rollovers and deletions
    Path dir = tmp.resolve("log");
    MemoryRaftStorage ref = new MemoryRaftStorage();
    WalTestSupport.OpGenerator gen = new WalTestSupport.OpGenerator(rnd);
    SegmentedRaftLog log = SegmentedRaftLog.open(dir, segmentBytes);
    try {
      int ops = 300;
      for (int op = 0; op < ops; op++) {
        gen.step(log, ref);
        assertSameView(log, ref, "seed " + seed + " after op " + op);
        if (rnd.nextInt(12) == 0) {
          log.close();
          log = SegmentedRaftLog.open(dir, segmentBytes);
          assertSameView(log, ref, "seed " + seed + " reopened after op " + op);
        }
      }
      log.close();
      log = SegmentedRaftLog.open(dir, segmentBytes);
      assertSameView(log, ref, "seed " + seed + " final reopen");
      // Compaction must have kept the number of segments bounded by the live log.
      assertThat(snapshotFiles(dir)).hasSizeLessThanOrEqualTo(1);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      log.close();
    }
  }

  private static List<Path> snapshotFiles(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith("snap-")).toList();
    }
  }

  @Test
  void roundTripOfEveryRecordKind() {
    Path dir = tmp.resolve("rt");
    MemoryRaftStorage ref = new MemoryRaftStorage();
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir)) {
      List<Entry> es =
          List.of(
              Entry.normal(1, 1, new byte[] {1}),
              new Entry(1, 2, Entry.Type.CONF_CHANGE, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 7}),
              Entry.normal(2, 3, null));
      HardState hs = new HardState(2, 7, 2);
      log.save(hs, es, null);
      ref.save(hs, es, null);
      Snapshot s = new Snapshot(2, 1, new ConfState(Set.of(1L, 2L), Set.of(9L)), new byte[300]);
      log.compact(s, 1);
      ref.compact(s, 1);
      assertSameView(log, ref, "before reopen");
    }
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir)) {
      assertSameView(log, ref, "after reopen");
      assertThat(log.firstIndex()).isEqualTo(2);
      assertThat(log.term(1)).isEqualTo(1);
    }
  }

  @Test
  void emptyHardStateAndEmptyCallsWriteNothing() throws Exception {
    Path dir = tmp.resolve("empty");
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir)) {
      log.save(new HardState(3, 1, 0), null, null);
      Path seg = WalTestSupport.segmentFiles(dir).get(0);
      long size = Files.size(seg);
      log.save(null, null, null);
      log.save(HardState.EMPTY, List.of(), Snapshot.EMPTY);
      log.save(new HardState(3, 1, 0), null, null); // unchanged
      assertThat(Files.size(seg)).isEqualTo(size);
      assertThat(log.hardState()).isEqualTo(new HardState(3, 1, 0));
    }
  }

  @Test
  void aSaveThatOnlyMovesTheCommitIndexIsWrittenButNotSynced() throws Exception {
    Path dir = tmp.resolve("commit-only");
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir)) {
      log.save(new HardState(2, 1, 0), List.of(Entry.normal(2, 1, new byte[8])), null);
      long syncs = log.syncs();
      Path seg = WalTestSupport.segmentFiles(dir).get(0);
      long size = Files.size(seg);
      log.save(new HardState(2, 1, 1), null, null); // etcd's MustSync: false
      assertThat(log.syncs()).isEqualTo(syncs);
      assertThat(Files.size(seg)).isGreaterThan(size);
      assertThat(log.hardState()).isEqualTo(new HardState(2, 1, 1));
      log.save(new HardState(3, 0, 1), null, null); // a new term must be durable
      assertThat(log.syncs()).isEqualTo(syncs + 1);
      log.save(new HardState(3, 2, 1), null, null); // so must a vote
      assertThat(log.syncs()).isEqualTo(syncs + 2);
      log.save(new HardState(3, 2, 1), List.of(Entry.normal(3, 2, new byte[8])), null);
      assertThat(log.syncs()).isEqualTo(syncs + 3);
      log.save(new HardState(3, 2, 2), null, null);
      assertThat(log.syncs()).isEqualTo(syncs + 3);
    }
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir)) {
      assertThat(log.hardState()).isEqualTo(new HardState(3, 2, 2));
      assertThat(log.lastIndex()).isEqualTo(2);
    }
  }

  @Test
  void aSegmentEndingInUnsyncedCommitsIsSyncedBeforeTheNextStarts() throws Exception {
    Path dir = tmp.resolve("commit-roll");
    MemoryRaftStorage ref = new MemoryRaftStorage();
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 256)) {
      boolean rolledAfterUnsynced = false;
      for (long i = 1; i <= 40; i++) {
        // Entries of varying size, so that segments roll before either kind of batch.
        List<Entry> es = List.of(Entry.normal(1, i, new byte[(int) (i * 7 % 40)]));
        long syncs = log.syncs();
        int segments = WalTestSupport.segmentFiles(dir).size();
        log.save(new HardState(1, 1, i - 1), es, null);
        ref.save(new HardState(1, 1, i - 1), es, null);
        boolean rolled = WalTestSupport.segmentFiles(dir).size() > segments;
        // A batch that starts a segment first syncs the old one, which ends in an unsynced commit.
        assertThat(log.syncs())
            .as("syncs after entry %s", i)
            .isEqualTo(syncs + (rolled && i > 1 ? 2 : 1));
        rolledAfterUnsynced |= rolled && i > 1;
        syncs = log.syncs();
        segments = WalTestSupport.segmentFiles(dir).size();
        log.save(new HardState(1, 1, i), null, null);
        ref.save(new HardState(1, 1, i), null, null);
        // Unsynced, unless this batch started a segment (whose file and directory entry it syncs).
        long expected = WalTestSupport.segmentFiles(dir).size() > segments ? syncs + 1 : syncs;
        assertThat(log.syncs()).as("syncs after commit-only save %s", i).isEqualTo(expected);
      }
      assertThat(rolledAfterUnsynced).isTrue();
      assertThat(WalTestSupport.segmentFiles(dir).size()).isGreaterThan(3);
    }
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 256)) {
      assertSameView(log, ref, "after commit-only saves across segments");
    }
  }

  @Test
  void compactionDeletesSegmentsHoldingOnlyCompactedEntries() throws Exception {
    Path dir = tmp.resolve("gc");
    MemoryRaftStorage ref = new MemoryRaftStorage();
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 256)) {
      for (long i = 1; i <= 200; i++) {
        List<Entry> es = List.of(Entry.normal(1, i, new byte[50]));
        log.save(new HardState(1, 1, i), es, null);
        ref.save(new HardState(1, 1, i), es, null);
      }
      int before = WalTestSupport.segmentFiles(dir).size();
      Snapshot s = new Snapshot(195, 1, new ConfState(Set.of(1L), Set.of()), new byte[10]);
      log.compact(s, 190);
      ref.compact(s, 190);
      int after = WalTestSupport.segmentFiles(dir).size();
      assertThat(before).isGreaterThan(50);
      assertThat(after).isLessThanOrEqualTo(6);
      assertThat(WalTestSupport.segmentFiles(dir).get(0).getFileName().toString())
          .isNotEqualTo("00000000000000000001.wal");
    }
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 256)) {
      assertSameView(log, ref, "after segment deletion and reopen");
    }
  }

  @Test
  void entriesLargerThanTheWriteBufferRoundTrip() {
    Path dir = tmp.resolve("large");
    Random rnd = new Random(5);
    MemoryRaftStorage ref = new MemoryRaftStorage();
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 1 << 20)) {
      List<Entry> es =
          List.of(
              Entry.normal(1, 1, WalTestSupport.randomBytes(rnd, 10)),
              Entry.normal(1, 2, new byte[3 << 20]),
              Entry.normal(1, 3, WalTestSupport.randomBytes(rnd, 100)),
              Entry.normal(1, 4, new byte[(2 << 20) + 7]));
      es.get(1).data()[12345] = 9;
      log.save(new HardState(1, 1, 0), es, null);
      ref.save(new HardState(1, 1, 0), es, null);
      List<Entry> more = List.of(Entry.normal(1, 5, new byte[] {5}));
      log.save(null, more, null); // rolls over: the previous segment is over 1 MiB
      ref.save(null, more, null);
      assertThatThrownBy(
              () ->
                  log.save(
                      null,
                      List.of(Entry.normal(1, 6, new byte[WalFormat.MAX_PAYLOAD_BYTES])),
                      null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("more than a record holds");
      log.save(new HardState(1, 1, 5), null, null); // still usable after the rejected call
      ref.save(new HardState(1, 1, 5), null, null);
    }
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 1 << 20)) {
      assertSameView(log, ref, "after reopen");
    }
  }

  @Test
  void secondOpenOfTheSameDirectoryIsRefused() {
    Path dir = tmp.resolve("locked");
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir)) {
      assertThatThrownBy(() -> SegmentedRaftLog.open(dir))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already open");
      assertThat(log.lastIndex()).isZero();
    }
    SegmentedRaftLog.open(dir).close(); // released on close
  }

  @Test
  void writesAfterCloseAreRefused() {
    SegmentedRaftLog log = SegmentedRaftLog.open(tmp.resolve("closed"));
    log.close();
    assertThatThrownBy(() -> log.save(new HardState(1, 0, 0), null, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }
}

package dev.kubelite.store.raft.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.Entry;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.Snapshot;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damage that is not a torn tail must stop recovery with a message saying where and what to do. */
class SegmentedRaftLogCorruptionTest {
  @TempDir Path tmp;
  Path dir;

  @BeforeEach
  void writeMultiSegmentLog() {
    dir = tmp.resolve("log");
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 300)) {
      long index = 1;
      for (int batch = 0; batch < 30; batch++) {
        List<Entry> es = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          es.add(Entry.normal(1, index++, new byte[] {(byte) batch, (byte) i, 42}));
        }
        log.save(new HardState(1, 1, index - 1), es, null);
      }
      log.compact(new Snapshot(10, 1, new ConfState(Set.of(1L), Set.of()), new byte[64]), 5);
    }
  }

  private List<Path> segments() throws IOException {
    return WalTestSupport.segmentFiles(dir);
  }

  private static void flipByte(Path file, long offset) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    bytes[(int) offset] ^= 0x5a;
    Files.write(file, bytes);
  }

  @Test
  void flippedByteInANonLastSegmentIsReportedNotRepaired() throws IOException {
    List<Path> segs = segments();
    assertThat(segs).hasSizeGreaterThan(3);
    Path victim = segs.get(1);
    long size = Files.size(victim);
    flipByte(victim, size - 20);
    assertThatThrownBy(() -> SegmentedRaftLog.open(dir, 300))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(victim.toString())
        .hasMessageContaining("corrupt at offset")
        .hasMessageContaining("checksum mismatch")
        .hasMessageContaining("restore this member from a snapshot")
        .hasMessageContaining("remove it from the cluster and re-add it");
    assertThat(Files.size(victim)).as("never truncated").isEqualTo(size);
    assertThat(segments()).isEqualTo(segs);
  }

  @Test
  void truncatedNonLastSegmentIsReported() throws IOException {
    Path victim = segments().get(0);
    try (FileChannel ch = FileChannel.open(victim, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 3);
    }
    assertThatThrownBy(() -> SegmentedRaftLog.open(dir, 300))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(victim.toString())
        .hasMessageContaining("runs past the end of the file")
        .hasMessageContaining("not a torn write at the tail");
  }

  @Test
  void missingSegmentInTheMiddleIsReported() throws IOException {
    List<Path> segs = segments();
    Files.delete(segs.get(2));
    assertThatThrownBy(() -> SegmentedRaftLog.open(dir, 300))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining("is missing from " + dir);
  }

  @Test
  void missingSnapshotFileIsReported() throws IOException {
    Files.delete(dir.resolve(SnapshotFiles.name(10)));
    assertThatThrownBy(() -> SegmentedRaftLog.open(dir, 300))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining("snapshot at index 10")
        .hasMessageContaining("is missing");
  }

  @Test
  void corruptSnapshotFileIsReported() throws IOException {
    Path snap = dir.resolve(SnapshotFiles.name(10));
    flipByte(snap, SnapshotFiles.HEADER_BYTES + 3);
    assertThatThrownBy(() -> SegmentedRaftLog.open(dir, 300))
        .isInstanceOf(WalCorruptionException.class)
        .hasMessageContaining(snap.toString())
        .hasMessageContaining("checksum mismatch");
  }

  @Test
  void intactLogStillOpens() {
    try (SegmentedRaftLog log = SegmentedRaftLog.open(dir, 300)) {
      assertThat(log.firstIndex()).isEqualTo(6);
      assertThat(log.lastIndex()).isEqualTo(90);
      assertThat(log.snapshot().index()).isEqualTo(10);
      assertThat(log.entries(90, 91, Long.MAX_VALUE).get(0).data()).containsExactly(29, 2, 42);
    }
  }
}

package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.mvcc.KeyValue;
import dev.kubelite.store.mvcc.Range;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.driver.RaftDriver;
import dev.kubelite.store.raft.wal.SegmentedRaftLog;
import dev.kubelite.store.testing.LocalCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local Raft snapshots carry only metadata (docs/decisions/0105): the MVCC store is the state, made
 * durable before the log is compacted; a follower behind the log gets an image built off the Raft
 * thread; data dirs whose snapshot file holds a whole image (written before this change) still
 * open.
 */
class MetadataSnapshotTest {
  /** A snapshot every 20 entries, 5 entries kept behind it: the log is compacted all the time. */
  private static final RaftDriver.Options SMALL_SNAPSHOTS =
      new RaftDriver.Options(Duration.ofMillis(50), 20, 5);

  /** A snapshot every 150 entries (the upgrade test builds its old-style snapshot by hand). */
  private static final RaftDriver.Options RARE_SNAPSHOTS =
      new RaftDriver.Options(Duration.ofMillis(50), 150, 5);

  /** 4 KiB values: 300 of them make a database of over a megabyte. */
  private static final String BIG = "x".repeat(4096);

  @TempDir Path dir;

  private LocalCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static void put(StoreMember m, String key, String value) throws Exception {
    m.write(
            InternalRequest.newBuilder()
                .setPut(
                    PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8(key))
                        .setValue(ByteString.copyFromUtf8(value))))
        .get(10, TimeUnit.SECONDS);
  }

  /** Every key and value (and their revisions) the member holds, in key order. */
  private static List<String> everything(StoreMember m) throws Exception {
    List<KeyValue> kvs =
        m.read(true, s -> s.range(Range.of(new byte[] {0}, new byte[] {0})))
            .get(10, TimeUnit.SECONDS)
            .kvs();
    List<String> out = new ArrayList<>();
    for (KeyValue kv : kvs) {
      out.add(
          new String(kv.key(), StandardCharsets.UTF_8)
              + "@"
              + kv.createRevision()
              + "/"
              + kv.modRevision()
              + "="
              + new String(kv.value(), StandardCharsets.UTF_8).length());
    }
    return out;
  }

  private static long revision(StoreMember m) throws Exception {
    return m.withMvcc(s -> s.currentRevision());
  }

  private Path wal(int member) {
    return dir.resolve(cluster.name(member)).resolve("member").resolve("wal");
  }

  /** The Raft log's snapshot files (normally one) with their sizes. */
  private static List<Long> snapshotFileSizes(Path wal) throws Exception {
    try (Stream<Path> s = Files.list(wal)) {
      List<Long> sizes = new ArrayList<>();
      for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".snap")).toList()) {
        sizes.add(Files.size(p));
      }
      return sizes;
    }
  }

  @Test
  void localSnapshotsRecordOnlyMetadataAndNoRaftThreadPacksAnImage() throws Exception {
    long packedOnRaftThreads = StateImage.packsOnThreads("raft-");
    cluster = LocalCluster.of(dir, "meta", 1).options(SMALL_SNAPSHOTS).start();
    cluster.awaitLeader();
    StoreMember m = cluster.member(0);
    for (int i = 0; i < 300; i++) {
      put(m, String.format("k%03d", i), BIG + i);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> m.snapshotIndex() >= 280);
    assertThat(m.mvcc().dbSizeBytes()).isGreaterThan(1_000_000);
    // The snapshot file holds the metadata marker, not the megabytes of the database.
    assertThat(snapshotFileSizes(wal(0)))
        .singleElement()
        .satisfies(size -> assertThat(size).isLessThan(100));
    assertThat(StateImage.packsOnThreads("raft-")).isEqualTo(packedOnRaftThreads);
    // Everything up to the snapshot is in the MVCC store, which is what makes compaction safe.
    assertThat(m.mvcc().appliedIndex()).isGreaterThanOrEqualTo(m.snapshotIndex());

    List<String> before = everything(m);
    long revision = revision(m);
    cluster.restart(0);
    cluster.awaitLeader();
    StoreMember restarted = cluster.member(0);
    assertThat(restarted.imagesInstalled()).isZero();
    assertThat(revision(restarted)).isEqualTo(revision);
    assertThat(everything(restarted)).isEqualTo(before).hasSize(300);
    put(restarted, "after", "restart");
    assertThat(revision(restarted)).isEqualTo(revision + 1);
  }

  @Test
  void aFollowerBehindTheCompactedLogGetsAnImageBuiltOffTheRaftThread() throws Exception {
    long packedOnRaftThreads = StateImage.packsOnThreads("raft-");
    cluster = LocalCluster.of(dir, "meta-catch-up", 3).options(SMALL_SNAPSHOTS).start();
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .untilAsserted(() -> put(cluster.member(0), "warm", "up"));
    int victim = -1;
    for (int i = 0; i < 3 && victim < 0; i++) {
      if (cluster.member(i).raftStatus().role() != Role.LEADER) {
        victim = i;
      }
    }
    int alive = victim == 0 ? 1 : 0;
    int v = victim;
    await().atMost(Duration.ofSeconds(10)).until(() -> !everything(cluster.member(v)).isEmpty());
    cluster.stop(victim);

    StoreMember survivor = cluster.member(alive);
    for (int i = 0; i < 200; i++) {
      put(survivor, String.format("k%03d", i), BIG + i);
    }
    int leader = cluster.awaitLeader();
    long leaderSnapshot = cluster.member(leader).snapshotIndex();
    assertThat(leaderSnapshot).isGreaterThan(150);
    assertThat(snapshotFileSizes(wal(leader))).allSatisfy(size -> assertThat(size).isLessThan(100));

    cluster.start(victim);
    StoreMember restarted = cluster.member(victim);
    long expected = revision(survivor);
    await().atMost(Duration.ofSeconds(30)).until(() -> revision(restarted) == expected);
    assertThat(restarted.imagesInstalled()).isGreaterThanOrEqualTo(1);
    assertThat(cluster.member(leader).imagesSent()).isGreaterThanOrEqualTo(1);
    assertThat(StateImage.packsOnThreads("raft-")).isEqualTo(packedOnRaftThreads);
    assertThat(StateImage.packsOnThreads("store-image-send")).isGreaterThanOrEqualTo(1);
    assertThat(everything(restarted)).isEqualTo(everything(survivor)).hasSize(201);
    assertThat(restarted.members()).hasSize(3);

    // Replication goes on from the log after the image, and the follower's own snapshots are
    // metadata again once it took one.
    for (int i = 0; i < 60; i++) {
      put(survivor, "after-" + i, "v" + i);
    }
    long after = revision(survivor);
    await().atMost(Duration.ofSeconds(10)).until(() -> revision(restarted) == after);
    assertThat(everything(restarted)).isEqualTo(everything(survivor));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(snapshotFileSizes(wal(v)))
                    .allSatisfy(size -> assertThat(size).isLessThan(100)));

    // A restart of the follower right after all that needs no image.
    long installed = restarted.imagesInstalled();
    cluster.restart(victim);
    StoreMember again = cluster.member(victim);
    await().atMost(Duration.ofSeconds(20)).until(() -> revision(again) == after);
    assertThat(again.imagesInstalled()).isZero();
    assertThat(installed).isGreaterThanOrEqualTo(1);
    assertThat(everything(again)).isEqualTo(everything(survivor));
  }

  /**
   * A data dir as the previous version left it: the Raft log's snapshot file holds a whole state
   * image. It opens; when the MVCC store is behind that snapshot (here: lost altogether) the image
   * is installed from the file; the next local snapshot replaces it with metadata.
   */
  @Test
  void aDataDirWhoseSnapshotFileHoldsAWholeImageStillOpens() throws Exception {
    cluster = LocalCluster.of(dir, "upgrade", 1).options(RARE_SNAPSHOTS).start();
    cluster.awaitLeader();
    StoreMember m = cluster.member(0);
    for (int i = 0; i < 100; i++) {
      put(m, String.format("k%03d", i), BIG + i);
    }
    List<String> before = everything(m);
    long revision = revision(m);
    long applied = m.raftStatus().appliedIndex();
    var conf = m.raftStatus().conf();
    // What the previous version's driver did on the Raft thread: a snapshot with the whole image.
    byte[] image = m.stateImage();
    cluster.stop(0);
    Path member = dir.resolve(cluster.name(0)).resolve("member");
    try (SegmentedRaftLog log = SegmentedRaftLog.open(member.resolve("wal"))) {
      log.compact(new Snapshot(applied, log.term(applied), conf, image), applied - 5);
    }
    assertThat(snapshotFileSizes(member.resolve("wal")))
        .singleElement()
        .satisfies(size -> assertThat(size).isGreaterThan(10_000L));

    // The store is at the snapshot's index: the image is read but not needed.
    cluster.start(0);
    cluster.awaitLeader();
    assertThat(cluster.member(0).imagesInstalled()).isZero();
    assertThat(everything(cluster.member(0))).isEqualTo(before);
    cluster.stop(0);

    // The store is gone (or behind): the image in the snapshot file brings it back.
    StateImage.deleteRecursively(member.resolve("snap").resolve("db"));
    cluster.start(0);
    cluster.awaitLeader();
    StoreMember upgraded = cluster.member(0);
    assertThat(upgraded.imagesInstalled()).isEqualTo(1);
    assertThat(revision(upgraded)).isEqualTo(revision);
    assertThat(everything(upgraded)).isEqualTo(before);

    // The next local snapshot records only metadata.
    long first = upgraded.snapshotIndex();
    for (int i = 0; i < 160; i++) {
      put(upgraded, "new-" + i, "v");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> upgraded.snapshotIndex() > first);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(snapshotFileSizes(member.resolve("wal")))
                    .singleElement()
                    .satisfies(size -> assertThat(size).isLessThan(100)));
    assertThat(revision(upgraded)).isEqualTo(revision + 160);
    cluster.restart(0);
    cluster.awaitLeader();
    assertThat(cluster.member(0).imagesInstalled()).isZero();
    assertThat(revision(cluster.member(0))).isEqualTo(revision + 160);
  }
}

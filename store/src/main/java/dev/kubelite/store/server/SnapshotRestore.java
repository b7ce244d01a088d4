package dev.kubelite.store.server;

import dev.kubelite.store.api.kubelitepb.MemberAttributes;
import dev.kubelite.store.mvcc.MvccStore;
import dev.kubelite.store.raft.ConfState;
import dev.kubelite.store.raft.HardState;
import dev.kubelite.store.raft.RaftNode;
import dev.kubelite.store.raft.Snapshot;
import dev.kubelite.store.raft.wal.SegmentedRaftLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Offline restore, as {@code etcdctl snapshot restore} does for etcd: builds a new member's data
 * dir from a {@link StateImage} under a new cluster identity. The MVCC state (keys, revisions,
 * leases, compaction point) is kept; the membership is the one the flags describe; the Raft log
 * starts from a snapshot at index {@code max(1, image's applied index)}, term 1, with the new
 * voters (a snapshot of metadata only, as a member's own: the extracted database is the state), so
 * the state is not applied again and every member restored from the same image with the same flags
 * starts from the same log position.
 */
public final class SnapshotRestore {
  private SnapshotRestore() {}

  /** What a restore produced. */
  public record Result(long raftIndex, long revision, long memberId, long clusterId) {}

  public static Result restore(Path imageFile, MemberConfig config) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(imageFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read snapshot file " + imageFile, e);
    }
    StateImage.Contents image = StateImage.read(bytes);
    Path dataDir = config.dataDir();
    requireEmpty(dataDir);
    Path member = dataDir.resolve("member");
    try {
      return build(image, config, member);
    } catch (RuntimeException e) {
      StateImage.deleteRecursively(member); // leave no half-built data dir behind
      throw e;
    }
  }

  private static Result build(StateImage.Contents image, MemberConfig config, Path member) {
    Path db = member.resolve("snap").resolve("db");
    StateImage.extractDb(image, db);
    MvccStore.CheckpointMeta meta;
    long index;
    try (MvccStore store = MvccStore.open(db)) { // checks the database opens and is consistent
      meta =
          new MvccStore.CheckpointMeta(
              store.currentRevision(), store.compactRevision(), store.appliedIndex());
      // The Raft log starts from a snapshot at this index that records only metadata (decision
      // 0105): the store must be at it, and durably so, before the log says so.
      index = Math.max(1, meta.appliedIndex());
      store.markApplied(index);
      store.syncWal();
    }
    Map<Long, MemberAttributes> founders = new TreeMap<>();
    config
        .initialCluster()
        .forEach(
            (name, urls) ->
                founders.put(
                    MemberIds.memberId(urls, config.initialClusterToken(), null),
                    StoreMember.attributes(name, urls, List.of())));
    MemberRegistry registry = new MemberRegistry(member.resolve("members.pb"));
    registry.replaceAll(founders);
    try (SegmentedRaftLog log = SegmentedRaftLog.open(member.resolve("wal"))) {
      log.save(
          new HardState(1, RaftNode.NONE, index),
          List.of(),
          new Snapshot(
              index,
              1,
              new ConfState(founders.keySet(), Set.of()),
              StateImage.metadataMarker(index)));
    }
    return new Result(index, meta.revision(), config.memberId(), config.clusterId());
  }

  private static void requireEmpty(Path dataDir) {
    if (!Files.exists(dataDir)) {
      return;
    }
    try (Stream<Path> s = Files.list(dataDir)) {
      if (s.findAny().isPresent()) {
        throw new MemberConfig.InvalidConfigException(
            "--data-dir " + dataDir + " is not empty; restore into a new directory");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dataDir, e);
    }
  }
}

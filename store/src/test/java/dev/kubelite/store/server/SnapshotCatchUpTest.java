package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.mvcc.Range;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.driver.RaftDriver;
import dev.kubelite.store.testing.LocalCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that was down while the others compacted their logs past it catches up by installing the
 * leader's snapshot image, and then serves the same data.
 */
class SnapshotCatchUpTest {
  private static final RaftDriver.Options SMALL_SNAPSHOTS =
      new RaftDriver.Options(Duration.ofMillis(50), 20, 5);

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

  private static String get(StoreMember m, String key) throws Exception {
    var kvs =
        m.read(true, s -> s.range(Range.key(key.getBytes(StandardCharsets.UTF_8))))
            .get(10, TimeUnit.SECONDS)
            .kvs();
    return kvs.isEmpty() ? null : new String(kvs.get(0).value(), StandardCharsets.UTF_8);
  }

  private static long revision(StoreMember m) throws Exception {
    return m.withMvcc(s -> s.currentRevision());
  }

  @Test
  void aMemberBehindTheCompactedLogInstallsTheLeadersSnapshot() throws Exception {
    cluster = LocalCluster.of(dir, "catch-up", 3).options(SMALL_SNAPSHOTS).start();
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
    int victimIndex = victim;
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get(cluster.member(victimIndex), "warm") != null);
    cluster.stop(victim);

    for (int i = 0; i < 100; i++) {
      put(cluster.member(alive), String.format("k%03d", i), "v" + i);
    }
    StoreMember survivor = cluster.member(alive);

    cluster.start(victim);
    StoreMember restarted = cluster.member(victim);
    long expected = revision(survivor);
    await().atMost(Duration.ofSeconds(20)).until(() -> revision(restarted) == expected);
    assertThat(restarted.imagesInstalled()).isGreaterThanOrEqualTo(1);
    assertThat(get(restarted, "k000")).isEqualTo("v0");
    assertThat(get(restarted, "k099")).isEqualTo("v99");
    assertThat(restarted.members()).hasSize(3);

    // Replication goes on from the log after the snapshot.
    put(survivor, "after", "snapshot");
    await().atMost(Duration.ofSeconds(10)).until(() -> "snapshot".equals(get(restarted, "after")));
    assertThat(revision(restarted)).isEqualTo(revision(survivor));
  }
}

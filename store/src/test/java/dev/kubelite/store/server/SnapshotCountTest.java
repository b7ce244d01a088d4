package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.kubelitepb.InternalRequest;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code kubelite store --snapshot-count N} sets how many applied entries make a Raft snapshot, as
 * etcd's flag does; a member restarted from that snapshot still holds every write.
 */
class SnapshotCountTest {
  @TempDir Path dir;

  private StoreServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private MemberConfig config(String... extra) {
    String client = "http://127.0.0.1:" + FreePorts.next();
    String peer = "http://127.0.0.1:" + FreePorts.next();
    StoreCommand cmd = new StoreCommand();
    String[] args = {
      "--name", "m1",
      "--data-dir", dir.resolve("m1").toString(),
      "--listen-client-urls", client,
      "--advertise-client-urls", client,
      "--listen-peer-urls", peer,
      "--initial-advertise-peer-urls", peer,
      "--initial-cluster", "m1=" + peer
    };
    String[] all = new String[args.length + extra.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(extra, 0, all, args.length, extra.length);
    new CommandLine(cmd).parseArgs(all);
    return cmd.config();
  }

  private static void puts(StoreMember m, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      m.write(
              InternalRequest.newBuilder()
                  .setPut(
                      PutRequest.newBuilder()
                          .setKey(ByteString.copyFromUtf8("k" + i))
                          .setValue(ByteString.copyFromUtf8("v" + i))))
          .get(10, TimeUnit.SECONDS);
    }
  }

  private void awaitLeader() {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> server.member().raftStatus().leader() == server.member().memberId());
  }

  @Test
  void aSnapshotFollowsEverySnapshotCountEntries() throws Exception {
    MemberConfig config = config("--snapshot-count", "20");
    server = StoreServer.start(config);
    awaitLeader();
    puts(server.member(), 50);
    long applied = server.member().raftStatus().appliedIndex();
    assertThat(server.member().snapshotIndex())
        .as("snapshot index after %d applied entries", applied)
        .isGreaterThan(applied - 20)
        .isGreaterThanOrEqualTo(40);
    long revision = server.member().withMvcc(s -> s.currentRevision());

    server.close();
    server = StoreServer.start(config);
    awaitLeader();
    long restarted = server.member().withMvcc(s -> s.currentRevision());
    assertThat(restarted).isEqualTo(revision);
  }

  @Test
  void byDefaultASnapshotWaitsFor100000Entries() throws Exception {
    server = StoreServer.start(config());
    awaitLeader();
    puts(server.member(), 50);
    assertThat(server.member().config().snapshotCount()).isEqualTo(100_000);
    assertThat(server.member().snapshotIndex()).isZero();
  }
}

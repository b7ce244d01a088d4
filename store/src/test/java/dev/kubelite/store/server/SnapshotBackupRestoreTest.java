package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Backup with the real {@code etcdctl snapshot save} and offline restore with {@code kubelite store
 * snapshot restore} into a cluster with a new identity.
 */
class SnapshotBackupRestoreTest {
  @TempDir Path dir;

  private StoreServer server;
  private int clientPort;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private MemberConfig config(String name, String dataDir, int client, int peer, String token) {
    String c = "http://127.0.0.1:" + client;
    String p = "http://127.0.0.1:" + peer;
    return MemberConfig.fromFlags(name, dataDir, c, c, p, p, null, null, token);
  }

  private void serve(MemberConfig config) throws Exception {
    clientPort = config.listenClientUrls().get(0).getPort();
    server = StoreServer.start(config);
    await().atMost(Duration.ofSeconds(10)).until(() -> ctl("endpoint", "health").exitCode() == 0);
  }

  private Result ctl(String... args) throws Exception {
    return EtcdProcess.Etcdctl.run("127.0.0.1:" + clientPort, args);
  }

  private Result ok(String... args) throws Exception {
    Result r = ctl(args);
    assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isZero();
    return r;
  }

  /** The kvs of a {@code get -w json} answer, without the header (whose ids differ). */
  private static String kvs(String json) {
    return json.substring(json.indexOf("\"kvs\""));
  }

  private static long revision(String json) {
    Matcher m = Pattern.compile("\"revision\":(\\d+)").matcher(json);
    assertThat(m.find()).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void etcdctlSnapshotSaveThenRestoreIntoANewClusterKeepsKeysAndRevisions() throws Exception {
    EtcdProcess.binary("etcdctl");
    serve(config("m1", dir.resolve("m1").toString(), FreePorts.next(), FreePorts.next(), "t1"));
    ok("put", "/registry/a", "1");
    ok("put", "/registry/b", "2");
    ok("put", "/registry/a", "3");
    ok("del", "/registry/b");
    ok("put", "/registry/c", "4");
    ok("compact", "2");
    String before = ok("get", "/registry/", "--prefix", "-w", "json").output();
    long rev = revision(before);

    Path file = dir.resolve("backup.db");
    Result save = ok("snapshot", "save", file.toString());
    assertThat(save.output()).contains("Snapshot saved at " + file);
    assertThat(StateImage.read(Files.readAllBytes(file)).header().revision()).isEqualTo(rev);
    // Our file is a Kubelite state image, not a bbolt database: etcdctl cannot inspect it.
    assertThat(ctl("snapshot", "status", file.toString()).exitCode()).isNotZero();
    server.close();
    server = null;

    int client = FreePorts.next();
    int peer = FreePorts.next();
    String peerUrl = "http://127.0.0.1:" + peer;
    Path restored = dir.resolve("r1");
    String[] restore = {
      "snapshot",
      "restore",
      file.toString(),
      "--name",
      "r1",
      "--data-dir",
      restored.toString(),
      "--initial-cluster",
      "r1=" + peerUrl,
      "--initial-cluster-token",
      "t2",
      "--initial-advertise-peer-urls",
      peerUrl
    };
    assertThat(new CommandLine(new StoreCommand()).execute(restore)).isZero();
    assertThat(new CommandLine(new StoreCommand()).execute(restore))
        .as("restoring into a non-empty data dir is refused")
        .isEqualTo(2);

    MemberConfig newConfig = config("r1", restored.toString(), client, peer, "t2");
    serve(newConfig);
    String after = ok("get", "/registry/", "--prefix", "-w", "json").output();
    assertThat(revision(after)).isEqualTo(rev);
    assertThat(kvs(after)).isEqualTo(kvs(before));
    assertThat(after).contains("\"cluster_id\":" + Long.toUnsignedString(newConfig.clusterId()));
    assertThat(ok("member", "list").output())
        .isEqualTo(
            MemberIds.hex(newConfig.memberId())
                + ", started, r1, "
                + peerUrl
                + ", http://127.0.0.1:"
                + client
                + ", false\n");
    Result compacted = ctl("get", "/registry/a", "--rev=1");
    assertThat(compacted.output()).contains("required revision has been compacted");
    ok("put", "/registry/d", "5");
    assertThat(revision(ok("get", "/registry/d", "-w", "json").output())).isEqualTo(rev + 1);

    // And it survives a restart of the restored member.
    server.close();
    server = null;
    serve(newConfig);
    assertThat(ok("get", "/registry/a").output()).isEqualTo("/registry/a\n3\n");
    assertThat(revision(ok("get", "/registry/d", "-w", "json").output())).isEqualTo(rev + 1);
  }
}

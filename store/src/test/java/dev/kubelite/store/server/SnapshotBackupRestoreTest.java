package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import dev.kubelite.store.testing.LocalMember;
import java.nio.file.Files;
import java.nio.file.Path;
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

  private LocalMember member;
  private EtcdProcess.Etcdctl ctl;

  @AfterEach
  void stop() {
    if (member != null) {
      member.close();
    }
  }

  private void serve(MemberConfig config) throws Exception {
    member = LocalMember.start(config);
    ctl = member.etcdctl();
  }

  /** The kvs of a {@code get -w json} answer, without the header (whose ids differ). */
  private static String kvs(String json) {
    return json.substring(json.indexOf("\"kvs\""));
  }

  @Test
  void etcdctlSnapshotSaveThenRestoreIntoANewClusterKeepsKeysAndRevisions() throws Exception {
    EtcdProcess.binary("etcdctl");
    serve(LocalMember.config("m1", dir.resolve("m1"), FreePorts.next(), FreePorts.next(), "t1"));
    ctl.ok("put", "/registry/a", "1");
    ctl.ok("put", "/registry/b", "2");
    ctl.ok("put", "/registry/a", "3");
    ctl.ok("del", "/registry/b");
    ctl.ok("put", "/registry/c", "4");
    ctl.ok("compact", "2");
    String before = ctl.ok("get", "/registry/", "--prefix", "-w", "json").output();
    long rev = EtcdProcess.Etcdctl.revision(before);

    Path file = dir.resolve("backup.db");
    Result save = ctl.ok("snapshot", "save", file.toString());
    assertThat(save.output()).contains("Snapshot saved at " + file);
    assertThat(StateImage.read(Files.readAllBytes(file)).header().revision()).isEqualTo(rev);
    // Our file is a Kubelite state image, not a bbolt database: etcdctl cannot inspect it.
    assertThat(ctl.call("snapshot", "status", file.toString()).exitCode()).isNotZero();
    member.close();

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

    MemberConfig newConfig = LocalMember.config("r1", restored, client, peer, "t2");
    serve(newConfig);
    String after = ctl.ok("get", "/registry/", "--prefix", "-w", "json").output();
    assertThat(EtcdProcess.Etcdctl.revision(after)).isEqualTo(rev);
    assertThat(kvs(after)).isEqualTo(kvs(before));
    assertThat(after).contains("\"cluster_id\":" + Long.toUnsignedString(newConfig.clusterId()));
    assertThat(ctl.ok("member", "list").output())
        .isEqualTo(
            MemberIds.hex(newConfig.memberId())
                + ", started, r1, "
                + peerUrl
                + ", http://127.0.0.1:"
                + client
                + ", false\n");
    Result compacted = ctl.call("get", "/registry/a", "--rev=1");
    assertThat(compacted.output()).contains("required revision has been compacted");
    ctl.ok("put", "/registry/d", "5");
    assertThat(EtcdProcess.Etcdctl.revision(ctl.ok("get", "/registry/d", "-w", "json").output()))
        .isEqualTo(rev + 1);

    // And it survives a restart of the restored member.
    member.restart();
    assertThat(ctl.ok("get", "/registry/a").output()).isEqualTo("/registry/a\n3\n");
    assertThat(EtcdProcess.Etcdctl.revision(ctl.ok("get", "/registry/d", "-w", "json").output()))
        .isEqualTo(rev + 1);
  }
}

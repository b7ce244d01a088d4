package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.LocalMember;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The real etcdctl (3.4) against a single-member Kubelite store, output checked. */
class EtcdctlCompatibilityTest {
  @TempDir Path dir;

  @RegisterExtension final LocalMember member = LocalMember.perTest();
  private EtcdProcess.Etcdctl ctl;

  @BeforeEach
  void etcdctl() {
    ctl = member.etcdctl();
  }

  @Test
  void putGetDeleteAndPrefixListing() throws Exception {
    assertThat(ctl.ok("put", "/registry/pods/default/web-1", "v1").output()).isEqualTo("OK\n");
    ctl.ok("put", "/registry/pods/default/web-2", "v2");
    ctl.ok("put", "/registry/namespaces/default", "ns");
    assertThat(ctl.ok("get", "/registry/pods/default/web-1").output())
        .isEqualTo("/registry/pods/default/web-1\nv1\n");
    assertThat(ctl.ok("get", "/", "--prefix", "--keys-only").output())
        .isEqualTo(
            "/registry/namespaces/default\n\n/registry/pods/default/web-1\n\n"
                + "/registry/pods/default/web-2\n\n");
    assertThat(ctl.ok("get", "/registry/pods", "--prefix", "-w", "fields").output())
        .contains("\"Count\" : 2");
    assertThat(ctl.ok("del", "/registry/pods/default/web-1").output()).isEqualTo("1\n");
    assertThat(ctl.ok("get", "/registry/pods/default/web-1").output()).isEmpty();
    assertThat(ctl.ok("del", "/registry/pods", "--prefix").output()).isEqualTo("1\n");
  }

  @Test
  void revisionsVersionsAndHistoricalReads() throws Exception {
    ctl.ok("put", "k", "a");
    long first = EtcdProcess.Etcdctl.revision(ctl.ok("get", "k", "-w", "json").output());
    ctl.ok("put", "k", "b");
    String json = ctl.ok("get", "k", "-w", "json").output();
    assertThat(EtcdProcess.Etcdctl.revision(json)).isEqualTo(first + 1);
    assertThat(json).contains("\"version\":2").contains("\"create_revision\":" + first);
    assertThat(ctl.ok("get", "k", "--rev=" + first).output()).isEqualTo("k\na\n");
    ctl.ok("compact", String.valueOf(first + 1));
    Result compacted = ctl.call("get", "k", "--rev=" + first);
    assertThat(compacted.exitCode()).isNotZero();
    assertThat(compacted.output()).contains("required revision has been compacted");
  }

  @Test
  void txnComparesAndBranches() throws Exception {
    ctl.ok("put", "key1", "1");
    Result r =
        ctl.withInput(
            "value(\"key1\") = \"1\"\n\nput key1 updated\nput key2 created\n\nput key1 failed\n\n",
            "txn");
    assertThat(r.output()).startsWith("SUCCESS\n\nOK\n\nOK\n");
    assertThat(ctl.ok("get", "key1").output()).isEqualTo("key1\nupdated\n");
    Result r2 = ctl.withInput("version(\"key2\") = \"5\"\n\n\nput key3 x\n\n", "txn");
    assertThat(r2.output()).startsWith("FAILURE");
    assertThat(ctl.ok("get", "key3").output()).isEqualTo("key3\nx\n");
  }

  @Test
  void watchSeesPutsAndDeletesInOrderFromARevision() throws Exception {
    ctl.ok("put", "w/warmup", "0");
    long from = EtcdProcess.Etcdctl.revision(ctl.ok("get", "w/warmup", "-w", "json").output()) + 1;
    Path out = dir.resolve("watch.out");
    ProcessBuilder pb =
        ctl.command("watch", "--prefix", "w/", "--rev=" + from)
            .redirectErrorStream(true)
            .redirectOutput(out.toFile());
    Process watch = pb.start();
    try {
      ctl.ok("put", "w/a", "1"); // before or after the watch is established: it starts at `from`
      ctl.ok("put", "other", "x");
      ctl.ok("del", "w/a");
      ctl.ok("put", "w/b", "2");
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(out).contains("w/b"));
      assertThat(Files.readString(out).replace("\n", "|"))
          .isEqualTo("PUT|w/a|1|DELETE|w/a||PUT|w/b|2|"); // a DELETE prints an empty value
    } finally {
      watch.destroy();
      watch.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void memberListEndpointStatusAndHealth() throws Exception {
    String hex = MemberIds.hex(member.config().memberId());
    assertThat(ctl.ok("member", "list").output())
        .isEqualTo(
            hex + ", started, m1, " + member.peerUrl() + ", " + member.clientUrl() + ", false\n");
    assertThat(ctl.ok("endpoint", "status").output())
        .startsWith(member.endpoint() + ", " + hex + ", 3.4.0, ")
        .contains(", true, false, ");
    assertThat(ctl.ok("endpoint", "health").output()).contains("is healthy");
  }

  @Test
  void badInputGetsEtcdsErrorsAndChangesNothing() throws Exception {
    ctl.ok("put", "safe", "1");
    Result empty = ctl.call("put", "", "v");
    assertThat(empty.exitCode()).isNotZero();
    assertThat(empty.output()).contains("key is not provided");
    Result huge = ctl.withInput("x".repeat(2 * 1024 * 1024), "put", "big");
    assertThat(huge.exitCode()).isNotZero();
    assertThat(huge.output()).containsAnyOf("request is too large", "message larger than max");
    Result ignore = ctl.call("put", "missing", "--ignore-value");
    assertThat(ignore.exitCode()).isNotZero();
    assertThat(ignore.output()).contains("key not found");
    assertThat(ctl.ok("get", "", "--prefix", "--keys-only").output()).isEqualTo("safe\n\n");
  }

  @Test
  void dataSurvivesARestart() throws Exception {
    ctl.ok("put", "durable", "yes");
    member.restart();
    assertThat(ctl.ok("get", "durable").output()).isEqualTo("durable\nyes\n");
    assertThat(ctl.ok("member", "list").output()).contains(", started, m1, ");
  }
}

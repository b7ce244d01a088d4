package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real etcdctl (3.4) against a single-member Kubelite store, output checked. */
class EtcdctlCompatibilityTest {
  @TempDir Path dir;

  private StoreServer server;
  private int clientPort;
  private int peerPort;

  private MemberConfig config() {
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    return MemberConfig.fromFlags(
        "m1", dir.resolve("m1").toString(), client, client, peer, peer, null, null, "t1");
  }

  @BeforeEach
  void start() throws Exception {
    EtcdProcess.binary("etcdctl");
    clientPort = FreePorts.next();
    peerPort = FreePorts.next();
    server = StoreServer.start(config());
    await().atMost(Duration.ofSeconds(10)).until(() -> ctl("endpoint", "health").exitCode() == 0);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** etcdctl against our endpoint, written host:port (see docs/store.md on http:// endpoints). */
  private Result ctl(String... args) throws Exception {
    return EtcdProcess.Etcdctl.run("127.0.0.1:" + clientPort, args);
  }

  private Result ok(String... args) throws Exception {
    Result r = ctl(args);
    assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isZero();
    return r;
  }

  private static long revision(String json) {
    Matcher m = Pattern.compile("\"revision\":(\\d+)").matcher(json);
    assertThat(m.find()).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void putGetDeleteAndPrefixListing() throws Exception {
    assertThat(ok("put", "/registry/pods/default/web-1", "v1").output()).isEqualTo("OK\n");
    ok("put", "/registry/pods/default/web-2", "v2");
    ok("put", "/registry/namespaces/default", "ns");
    assertThat(ok("get", "/registry/pods/default/web-1").output())
        .isEqualTo("/registry/pods/default/web-1\nv1\n");
    assertThat(ok("get", "/", "--prefix", "--keys-only").output())
        .isEqualTo(
            "/registry/namespaces/default\n\n/registry/pods/default/web-1\n\n"
                + "/registry/pods/default/web-2\n\n");
    assertThat(ok("get", "/registry/pods", "--prefix", "-w", "fields").output())
        .contains("\"Count\" : 2");
    assertThat(ok("del", "/registry/pods/default/web-1").output()).isEqualTo("1\n");
    assertThat(ok("get", "/registry/pods/default/web-1").output()).isEmpty();
    assertThat(ok("del", "/registry/pods", "--prefix").output()).isEqualTo("1\n");
  }

  @Test
  void revisionsVersionsAndHistoricalReads() throws Exception {
    ok("put", "k", "a");
    long first = revision(ok("get", "k", "-w", "json").output());
    ok("put", "k", "b");
    String json = ok("get", "k", "-w", "json").output();
    assertThat(revision(json)).isEqualTo(first + 1);
    assertThat(json).contains("\"version\":2").contains("\"create_revision\":" + first);
    assertThat(ok("get", "k", "--rev=" + first).output()).isEqualTo("k\na\n");
    ok("compact", String.valueOf(first + 1));
    Result compacted = ctl("get", "k", "--rev=" + first);
    assertThat(compacted.exitCode()).isNotZero();
    assertThat(compacted.output()).contains("required revision has been compacted");
  }

  @Test
  void txnComparesAndBranches() throws Exception {
    ok("put", "key1", "1");
    Result r =
        runWithInput(
            "value(\"key1\") = \"1\"\n\nput key1 updated\nput key2 created\n\nput key1 failed\n\n",
            "txn");
    assertThat(r.output()).startsWith("SUCCESS\n\nOK\n\nOK\n");
    assertThat(ok("get", "key1").output()).isEqualTo("key1\nupdated\n");
    Result r2 = runWithInput("version(\"key2\") = \"5\"\n\n\nput key3 x\n\n", "txn");
    assertThat(r2.output()).startsWith("FAILURE");
    assertThat(ok("get", "key3").output()).isEqualTo("key3\nx\n");
  }

  private Result runWithInput(String input, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(EtcdProcess.binary("etcdctl"));
    cmd.add("--endpoints=127.0.0.1:" + clientPort);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ETCDCTL_API", "3");
    Process p = pb.start();
    p.getOutputStream().write(input.getBytes());
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  @Test
  void watchSeesPutsAndDeletesInOrderFromARevision() throws Exception {
    ok("put", "w/warmup", "0");
    long from = revision(ok("get", "w/warmup", "-w", "json").output()) + 1;
    Path out = dir.resolve("watch.out");
    ProcessBuilder pb =
        new ProcessBuilder(
                EtcdProcess.binary("etcdctl"),
                "--endpoints=127.0.0.1:" + clientPort,
                "watch",
                "--prefix",
                "w/",
                "--rev=" + from)
            .redirectErrorStream(true)
            .redirectOutput(out.toFile());
    pb.environment().put("ETCDCTL_API", "3");
    Process watch = pb.start();
    try {
      ok("put", "w/a", "1"); // before or after the watch is established: it starts at `from`
      ok("put", "other", "x");
      ok("del", "w/a");
      ok("put", "w/b", "2");
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
    String hex = MemberIds.hex(config().memberId());
    assertThat(ok("member", "list").output())
        .isEqualTo(
            hex
                + ", started, m1, http://127.0.0.1:"
                + peerPort
                + ", http://127.0.0.1:"
                + clientPort
                + ", false\n");
    assertThat(ok("endpoint", "status").output())
        .startsWith("127.0.0.1:" + clientPort + ", " + hex + ", 3.4.0, ")
        .contains(", true, false, ");
    assertThat(ok("endpoint", "health").output()).contains("is healthy");
  }

  @Test
  void badInputGetsEtcdsErrorsAndChangesNothing() throws Exception {
    ok("put", "safe", "1");
    Result empty = ctl("put", "", "v");
    assertThat(empty.exitCode()).isNotZero();
    assertThat(empty.output()).contains("key is not provided");
    Result huge = runWithInput("x".repeat(2 * 1024 * 1024), "put", "big");
    assertThat(huge.exitCode()).isNotZero();
    assertThat(huge.output()).containsAnyOf("request is too large", "message larger than max");
    Result ignore = ctl("put", "missing", "--ignore-value");
    assertThat(ignore.exitCode()).isNotZero();
    assertThat(ignore.output()).contains("key not found");
    assertThat(ok("get", "", "--prefix", "--keys-only").output()).isEqualTo("safe\n\n");
  }

  @Test
  void dataSurvivesARestart() throws Exception {
    ok("put", "durable", "yes");
    server.close();
    server = StoreServer.start(config());
    await().atMost(Duration.ofSeconds(10)).until(() -> ctl("endpoint", "health").exitCode() == 0);
    assertThat(ok("get", "durable").output()).isEqualTo("durable\nyes\n");
    assertThat(ok("member", "list").output()).contains(", started, m1, ");
  }
}

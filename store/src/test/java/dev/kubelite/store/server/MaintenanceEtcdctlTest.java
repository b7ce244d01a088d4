package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Maintenance API through the real etcdctl 3.4 on one member: the NOSPACE quota alarm ({@code
 * --quota-backend-bytes}), {@code alarm list|disarm}, {@code defrag}, {@code endpoint hashkv},
 * {@code endpoint status} errors, and the {@code --cluster} forms that dial client URLs.
 */
class MaintenanceEtcdctlTest {
  /** Small enough to fill with a handful of 40 KB values. */
  private static final long QUOTA = 256 * 1024;

  private static final String NO_SPACE = "etcdserver: mvcc: database space exceeded";

  @TempDir Path dir;

  private StoreServer server;
  private int clientPort;
  private int peerPort;
  private long quota = QUOTA;

  private MemberConfig config() {
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    return MemberConfig.fromFlags(
            "m1", dir.resolve("m1").toString(), client, client, peer, peer, null, null, "maint")
        .withQuotaBackendBytes(quota);
  }

  @BeforeEach
  void ports() {
    EtcdProcess.binary("etcdctl");
    clientPort = FreePorts.next();
    peerPort = FreePorts.next();
  }

  private void start() throws Exception {
    server = StoreServer.start(config());
    await().atMost(Duration.ofSeconds(10)).until(() -> ctl("endpoint", "health").exitCode() == 0);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private Result ctl(String... args) throws Exception {
    return EtcdProcess.Etcdctl.run("127.0.0.1:" + clientPort, args);
  }

  private Result ok(String... args) throws Exception {
    Result r = ctl(args);
    assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isZero();
    return r;
  }

  private Result fails(String expected, String... args) throws Exception {
    Result r = ctl(args);
    assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isNotZero();
    assertThat(r.output()).contains(expected);
    return r;
  }

  private static long jsonLong(String json, String field) {
    Matcher m = Pattern.compile("\"" + field + "\":(-?\\d+)").matcher(json);
    assertThat(m.find()).as("%s in %s", field, json).isTrue();
    return Long.parseLong(m.group(1));
  }

  private String alarmText() {
    return "memberID:" + Long.toUnsignedString(server.member().memberId()) + " alarm:NOSPACE ";
  }

  private static String value(int seed) {
    Random rng = new Random(seed);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 40_000; i++) {
      sb.append((char) ('a' + rng.nextInt(26)));
    }
    return sb.toString();
  }

  /** Puts 40 KB values until the quota refuses one; returns how many were stored. */
  private int fillUntilNoSpace() throws Exception {
    for (int i = 0; i < 30; i++) {
      Result r = ctl("put", "big" + i, value(i));
      if (r.exitCode() != 0) {
        assertThat(r.output()).contains(NO_SPACE);
        return i;
      }
    }
    throw new AssertionError("30 puts of 40 KB did not exceed a quota of " + QUOTA + " bytes");
  }

  @Test
  void quotaRaisesNospaceReadsAndDeletesGoOnAndCompactDefragDisarmRecover() throws Exception {
    start();
    int stored = fillUntilNoSpace();
    assertThat(stored).isBetween(2, 8);
    assertThat(ok("alarm", "list").output()).isEqualTo(alarmText() + "\n");
    String status = ok("endpoint", "status", "-w", "json").output();
    assertThat(status).contains("\"errors\":[\"" + alarmText() + "\"]");
    assertThat(ok("endpoint", "status").output()).endsWith(", " + alarmText() + "\n");

    // Writes that add data fail on every path; reads, deletes and revokes do not.
    fails(NO_SPACE, "put", "small", "1");
    fails("failed to grant lease (" + NO_SPACE + ")", "lease", "grant", "60");
    assertThat(ok("get", "big0").output()).isEqualTo("big0\n" + value(0) + "\n");
    assertThat(ok("get", "big", "--prefix", "--keys-only", "-w", "json").output())
        .contains("\"count\":" + stored);
    assertThat(ok("del", "big0").output()).isEqualTo("1\n");

    // Disarming without reclaiming space: the next write that does not fit raises it again.
    assertThat(ok("alarm", "disarm").output()).isEqualTo(alarmText() + "\n");
    assertThat(ok("alarm", "list").output()).isEmpty();
    fails(NO_SPACE, "put", "again", value(99));
    assertThat(ok("alarm", "list").output()).isEqualTo(alarmText() + "\n");

    // Reclaim: delete, compact, defragment; then disarm and write again.
    ok("del", "big", "--prefix");
    long rev = jsonLong(ok("endpoint", "status", "-w", "json").output(), "revision");
    assertThat(ok("compact", Long.toString(rev)).output())
        .isEqualTo("compacted revision " + rev + "\n");
    long before = jsonLong(ok("endpoint", "status", "-w", "json").output(), "dbSize");
    assertThat(ok("defrag").output())
        .isEqualTo("Finished defragmenting etcd member[127.0.0.1:" + clientPort + "]\n");
    long after = jsonLong(ok("endpoint", "status", "-w", "json").output(), "dbSize");
    assertThat(after).isLessThan(before).isLessThan(QUOTA / 4);
    assertThat(ok("alarm", "list").output())
        .as("defragmentation does not disarm")
        .isEqualTo(alarmText() + "\n");
    fails(NO_SPACE, "put", "small", "1");
    assertThat(ok("alarm", "disarm").output()).isEqualTo(alarmText() + "\n");
    assertThat(ok("put", "small", "1").output()).isEqualTo("OK\n");
    assertThat(ok("lease", "grant", "60").output()).contains("granted with TTL(60s)");
    assertThat(ok("alarm", "list").output()).isEmpty();
    assertThat(ok("endpoint", "status", "-w", "json").output()).doesNotContain("errors");
  }

  @Test
  void alarmSurvivesARestart() throws Exception {
    start();
    fillUntilNoSpace();
    server.close();
    server = null;
    start();
    assertThat(ok("alarm", "list").output()).isEqualTo(alarmText() + "\n");
    fails(NO_SPACE, "put", "small", "1");
    ok("del", "big", "--prefix");
    long rev = jsonLong(ok("endpoint", "status", "-w", "json").output(), "revision");
    ok("compact", Long.toString(rev));
    ok("defrag");
    ok("alarm", "disarm");
    assertThat(ok("put", "small", "1").output()).isEqualTo("OK\n");
  }

  @Test
  void defragmentWhileWritingLosesNothing() throws Exception {
    quota = 0; // the default 2 GiB
    start();
    for (int i = 0; i < 5; i++) {
      ok("put", "big" + i, value(i));
    }
    ok("del", "big", "--prefix");
    AtomicBoolean stop = new AtomicBoolean();
    CompletableFuture<Integer> writer =
        CompletableFuture.supplyAsync(
            () -> {
              int n = 0;
              while (!stop.get() && n < 200) {
                try {
                  Result r = ctl("put", "w/" + n, "v" + n);
                  assertThat(r.exitCode()).as(r.output()).isZero();
                } catch (Exception e) {
                  throw new AssertionError(e);
                }
                n++;
              }
              return n;
            });
    for (int i = 0; i < 3; i++) {
      assertThat(ok("defrag").output()).startsWith("Finished defragmenting etcd member");
    }
    stop.set(true);
    int written = writer.get(60, TimeUnit.SECONDS);
    assertThat(written).isPositive();
    assertThat(ok("get", "w/", "--prefix", "--keys-only", "-w", "json").output())
        .contains("\"count\":" + written);
    assertThat(ok("get", "w/0").output()).isEqualTo("w/0\nv0\n");
  }

  @Test
  void hashKvAndClusterFormsThatDialClientUrls() throws Exception {
    quota = 0;
    start();
    ok("put", "a", "1");
    ok("put", "a", "2");
    long rev = jsonLong(ok("endpoint", "status", "-w", "json").output(), "revision");
    String hashkv = ok("endpoint", "hashkv", "-w", "json").output();
    long hash = jsonLong(hashkv, "hash");
    assertThat(jsonLong(hashkv, "compact_revision")).isEqualTo(-1);
    assertThat(ok("endpoint", "hashkv").output())
        .isEqualTo("127.0.0.1:" + clientPort + ", " + hash + "\n");
    // A hash at a past revision stays put as history grows.
    ok("put", "b", "3");
    assertThat(jsonLong(ok("endpoint", "hashkv", "--rev=" + rev, "-w", "json").output(), "hash"))
        .isEqualTo(hash);
    assertThat(jsonLong(ok("endpoint", "hashkv", "-w", "json").output(), "hash"))
        .isNotEqualTo(hash);
    ok("compact", Long.toString(rev));
    fails(
        "etcdserver: mvcc: required revision has been compacted",
        "endpoint",
        "hashkv",
        "--rev=" + (rev - 1));
    fails(
        "etcdserver: mvcc: required revision is a future revision",
        "endpoint",
        "hashkv",
        "--rev=" + (rev + 100));

    // --cluster takes the members' client URLs (http://...), as do http:// endpoints.
    String url = "http://127.0.0.1:" + clientPort;
    assertThat(ok("defrag", "--cluster").output())
        .isEqualTo("Finished defragmenting etcd member[" + url + "]\n");
    assertThat(ok("endpoint", "hashkv", "--cluster").output()).startsWith(url + ", ");
    Result status = EtcdProcess.Etcdctl.run(url, "endpoint", "status");
    assertThat(status.exitCode()).as(status.output()).isZero();
    assertThat(status.output()).startsWith(url + ", ");
  }
}

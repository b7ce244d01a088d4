package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.EtcdProcess.Result;
import dev.kubelite.store.testing.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real etcdctl (3.4) lease commands against a single-member store, output checked. */
class LeaseEtcdctlTest {
  private static final Pattern GRANTED =
      Pattern.compile("lease ([0-9a-f]+) granted with TTL\\((\\d+)s\\)\n");

  @TempDir Path dir;

  private StoreServer server;
  private int clientPort;

  @BeforeEach
  void start() throws Exception {
    EtcdProcess.binary("etcdctl");
    clientPort = FreePorts.next();
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + FreePorts.next();
    server =
        StoreServer.start(
            MemberConfig.fromFlags(
                "m1", dir.resolve("m1").toString(), client, client, peer, peer, null, null, "t1"));
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

  private Result fails(String... args) throws Exception {
    Result r = ctl(args);
    assertThat(r.exitCode()).as("etcdctl %s: %s", String.join(" ", args), r.output()).isNotZero();
    return r;
  }

  /** Grants a lease with etcdctl; returns its id (hex, as etcdctl prints it). */
  private String grant(long ttl, long expectedTtl) throws Exception {
    String out = ok("lease", "grant", Long.toString(ttl)).output();
    Matcher m = GRANTED.matcher(out);
    assertThat(m.matches()).as(out).isTrue();
    assertThat(Long.parseLong(m.group(2))).isEqualTo(expectedTtl);
    return m.group(1);
  }

  @Test
  void grantAttachTimeToLiveListKeepAliveAndRevoke() throws Exception {
    String id = grant(60, 60);
    assertThat(ok("put", "k", "v", "--lease=" + id).output()).isEqualTo("OK\n");

    assertThat(ok("lease", "timetolive", id, "--keys").output())
        .matches(
            "lease "
                + id
                + " granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[k\\]\\)\n");
    assertThat(ok("lease", "timetolive", id).output())
        .matches("lease " + id + " granted with TTL\\(60s\\), remaining\\((59|60)s\\)\n");
    assertThat(ok("lease", "list").output()).isEqualTo("found 1 leases\n" + id + "\n");
    assertThat(ok("lease", "keep-alive", "--once", id).output())
        .isEqualTo("lease " + id + " keepalived with TTL(60)\n");

    assertThat(ok("lease", "revoke", id).output()).isEqualTo("lease " + id + " revoked\n");
    assertThat(ok("get", "k").output()).isEmpty();
    assertThat(ok("lease", "list").output()).isEqualTo("found 0 leases\n");
    assertThat(ok("lease", "timetolive", id).output())
        .isEqualTo("lease " + id + " already expired\n");
  }

  @Test
  void unknownLeasesGetEtcdsErrors() throws Exception {
    assertThat(fails("put", "x", "y", "--lease=1234").output())
        .contains("Error: etcdserver: requested lease not found");
    assertThat(fails("lease", "revoke", "1234").output())
        .contains("failed to revoke lease (etcdserver: requested lease not found)");
    // The keep-alive answer for an unknown lease is TTL 0, which the client reports as not found.
    assertThat(fails("lease", "keep-alive", "--once", "1234").output())
        .contains("etcdserver: requested lease not found");
    assertThat(ok("lease", "timetolive", "1234").output())
        .isEqualTo("lease 0000000000001234 already expired\n");
    assertThat(ok("get", "x").output()).isEmpty();
  }

  @Test
  void grantChoosesIdsAndAppliesTheMinimumTtl() throws Exception {
    // etcd's minimum is ceil((3 * 10 / 2) * 100 ms) = 2 s with the default Raft timing.
    String a = grant(1, 2);
    String b = grant(0, 2);
    assertThat(a).isNotEqualTo(b);
    assertThat(Long.parseUnsignedLong(a, 16)).isPositive();
  }

  @Test
  void anUnrenewedLeaseExpiresAndTakesItsKeys() throws Exception {
    String id = grant(2, 2);
    ok("put", "e", "v", "--lease=" + id);
    assertThat(ok("get", "e", "--print-value-only").output()).isEqualTo("v\n");
    long granted = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(2 + 3))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> ok("get", "e").output().isEmpty());
    assertThat(Duration.ofNanos(System.nanoTime() - granted)).isGreaterThan(Duration.ofSeconds(1));
    assertThat(ok("lease", "timetolive", id).output())
        .isEqualTo("lease " + id + " already expired\n");
  }

  @Test
  void keepAlivesKeepALeaseAlive() throws Exception {
    String id = grant(2, 2);
    ok("put", "e", "v", "--lease=" + id);
    // For three TTLs, renew every 500 ms: the key must stay all along.
    await()
        .during(Duration.ofSeconds(6))
        .atMost(Duration.ofSeconds(8))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                ok("lease", "keep-alive", "--once", id).output().contains("keepalived with TTL(2)")
                    && ok("get", "e", "--print-value-only").output().equals("v\n"));
  }
}

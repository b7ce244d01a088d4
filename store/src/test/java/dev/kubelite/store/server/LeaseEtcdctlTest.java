package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.LocalMember;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The real etcdctl (3.4) lease commands against a single-member store, output checked. */
class LeaseEtcdctlTest {
  private static final Pattern GRANTED =
      Pattern.compile("lease ([0-9a-f]+) granted with TTL\\((\\d+)s\\)\n");

  @RegisterExtension final LocalMember member = LocalMember.perTest();
  private EtcdProcess.Etcdctl ctl;

  @BeforeEach
  void etcdctl() {
    ctl = member.etcdctl();
  }

  /**
   * For three TTLs of lease {@code id} (TTL 2 s), renews it every 500 ms through {@code ctl}: each
   * renewal must answer TTL 2, and {@code key}, attached to it, must keep {@code value} all along.
   */
  static void renewalsKeepItAlive(EtcdProcess.Etcdctl ctl, String id, String key, String value) {
    await()
        .during(Duration.ofSeconds(6))
        .atMost(Duration.ofSeconds(8))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                ctl.ok("lease", "keep-alive", "--once", id)
                        .output()
                        .equals("lease " + id + " keepalived with TTL(2)\n")
                    && ctl.ok("get", key, "--print-value-only").output().equals(value + "\n"));
  }

  /** Grants a lease with etcdctl; returns its id (hex, as etcdctl prints it). */
  private String grant(long ttl, long expectedTtl) throws Exception {
    String out = ctl.ok("lease", "grant", Long.toString(ttl)).output();
    Matcher m = GRANTED.matcher(out);
    assertThat(m.matches()).as(out).isTrue();
    assertThat(Long.parseLong(m.group(2))).isEqualTo(expectedTtl);
    return m.group(1);
  }

  @Test
  void grantAttachTimeToLiveListKeepAliveAndRevoke() throws Exception {
    long before = System.nanoTime();
    String id = grant(60, 60);
    assertThat(ctl.ok("put", "k", "v", "--lease=" + id).output()).isEqualTo("OK\n");

    String withKeys = ctl.ok("lease", "timetolive", id, "--keys").output();
    assertThat(withKeys)
        .matches(
            "lease "
                + id
                + " granted with TTL\\(60s\\), remaining\\((\\d+)s\\), attached keys\\(\\[k\\]\\)\n");
    assertRemaining(withKeys, before);
    String withoutKeys = ctl.ok("lease", "timetolive", id).output();
    assertThat(withoutKeys)
        .matches("lease " + id + " granted with TTL\\(60s\\), remaining\\((\\d+)s\\)\n");
    assertRemaining(withoutKeys, before);
    assertThat(ctl.ok("lease", "list").output()).isEqualTo("found 1 leases\n" + id + "\n");
    assertThat(ctl.ok("lease", "keep-alive", "--once", id).output())
        .isEqualTo("lease " + id + " keepalived with TTL(60)\n");

    assertThat(ctl.ok("lease", "revoke", id).output()).isEqualTo("lease " + id + " revoked\n");
    assertThat(ctl.ok("get", "k").output()).isEmpty();
    assertThat(ctl.ok("lease", "list").output()).isEqualTo("found 0 leases\n");
    assertThat(ctl.ok("lease", "timetolive", id).output())
        .isEqualTo("lease " + id + " already expired\n");
  }

  /**
   * The remaining TTL etcdctl printed for a 60-s lease granted after {@code before}: at most 60 s,
   * and at least 60 s less the time since then (each etcdctl run takes a while on a loaded
   * machine), less one for etcd's rounding down.
   */
  private static void assertRemaining(String timeToLive, long before) {
    Matcher m = Pattern.compile("remaining\\((\\d+)s\\)").matcher(timeToLive);
    assertThat(m.find()).as(timeToLive).isTrue();
    long elapsed = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - before) + 1;
    assertThat(Long.parseLong(m.group(1))).isBetween(60 - elapsed - 1, 60L);
  }

  @Test
  void unknownLeasesGetEtcdsErrors() throws Exception {
    assertThat(ctl.fails("put", "x", "y", "--lease=1234").output())
        .contains("Error: etcdserver: requested lease not found");
    assertThat(ctl.fails("lease", "revoke", "1234").output())
        .contains("failed to revoke lease (etcdserver: requested lease not found)");
    // The keep-alive answer for an unknown lease is TTL 0, which the client reports as not found.
    assertThat(ctl.fails("lease", "keep-alive", "--once", "1234").output())
        .contains("etcdserver: requested lease not found");
    assertThat(ctl.ok("lease", "timetolive", "1234").output())
        .isEqualTo("lease 0000000000001234 already expired\n");
    assertThat(ctl.ok("get", "x").output()).isEmpty();
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
    // Taken before the grant: the lease cannot expire sooner than its TTL after this.
    long granted = System.nanoTime();
    String id = grant(2, 2);
    ctl.ok("put", "e", "v", "--lease=" + id);
    assertThat(ctl.ok("get", "e", "--print-value-only").output()).isEqualTo("v\n");
    await()
        .atMost(Duration.ofSeconds(2 + 3))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> ctl.ok("get", "e").output().isEmpty());
    assertThat(Duration.ofNanos(System.nanoTime() - granted)).isGreaterThan(Duration.ofSeconds(1));
    assertThat(ctl.ok("lease", "timetolive", id).output())
        .isEqualTo("lease " + id + " already expired\n");
  }

  @Test
  void keepAlivesKeepALeaseAlive() throws Exception {
    String id = grant(2, 2);
    ctl.ok("put", "e", "v", "--lease=" + id);
    renewalsKeepItAlive(ctl, id, "e", "v");
  }
}

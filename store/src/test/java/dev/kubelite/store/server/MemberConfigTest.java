package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MemberConfigTest {

  @Test
  void defaultsAreEtcds() {
    MemberConfig c = MemberConfig.fromFlags(null, null, null, null, null, null, null, null, null);
    assertThat(c.name()).isEqualTo("default");
    assertThat(c.dataDir()).isEqualTo(Path.of("default.etcd"));
    assertThat(c.listenClientUrls()).containsExactly(URI.create("http://localhost:2379"));
    assertThat(c.initialCluster()).containsOnlyKeys("default");
    assertThat(c.initialClusterState()).isEqualTo(MemberConfig.ClusterState.NEW);
    assertThat(c.initialClusterToken()).isEqualTo("etcd-cluster");
  }

  @Test
  void aThreeMemberUnitFileTranslatesOneToOne() {
    MemberConfig c =
        MemberConfig.fromFlags(
            "infra1",
            "/var/lib/etcd",
            "http://127.0.0.1:22379",
            "http://127.0.0.1:22379",
            "http://127.0.0.1:22380",
            "http://127.0.0.1:22380",
            "infra0=http://127.0.0.1:12380,infra1=http://127.0.0.1:22380,"
                + "infra2=http://127.0.0.1:32380",
            "existing",
            "tok");
    assertThat(c.initialCluster()).containsOnlyKeys("infra0", "infra1", "infra2");
    assertThat(c.initialClusterState()).isEqualTo(MemberConfig.ClusterState.EXISTING);
    assertThat(c.initialMemberIds()).hasSize(3).containsEntry("infra1", c.memberId());
  }

  @Test
  void badFlagsAreRefusedNamingTheFlag() {
    assertThatThrownBy(() -> MemberConfig.urls("--listen-client-urls", "localhost:2379"))
        .hasMessageContaining("--listen-client-urls")
        .hasMessageContaining("http://");
    assertThatThrownBy(() -> MemberConfig.urls("--listen-peer-urls", "http://127.0.0.1"))
        .hasMessageContaining("port");
    assertThatThrownBy(() -> MemberConfig.parseInitialCluster("infra0"))
        .hasMessageContaining("name=url");
    assertThatThrownBy(
            () ->
                MemberConfig.fromFlags(
                    "a", null, null, null, null, null, "b=http://127.0.0.1:2380", null, null))
        .hasMessageContaining("no entry for this member's --name 'a'");
    assertThatThrownBy(
            () -> MemberConfig.fromFlags(null, null, null, null, null, null, null, "maybe", null))
        .hasMessageContaining("'new' or 'existing'");
    assertThatThrownBy(
            () ->
                MemberConfig.fromFlags(
                    "a",
                    null,
                    null,
                    null,
                    null,
                    "http://127.0.0.1:2390",
                    "a=http://127.0.0.1:2380",
                    null,
                    null))
        .hasMessageContaining("must match");
    assertThat(MemberConfig.urls("--x", "http://a:1, http://b:2")).hasSize(2);
  }

  @Test
  void limitsDefaultToEtcdsAndCanBeSet() {
    MemberConfig c = MemberConfig.fromFlags(null, null, null, null, null, null, null, null, null);
    assertThat(c.maxRequestBytes()).isEqualTo(1572864);
    assertThat(c.watchProgressNotifyInterval()).isEqualTo(Duration.ofMinutes(10));
    MemberConfig set =
        c.withMaxRequestBytes(4096).withWatchProgressNotifyInterval(Duration.ofMillis(200));
    assertThat(set.maxRequestBytes()).isEqualTo(4096);
    assertThat(set.watchProgressNotifyInterval()).isEqualTo(Duration.ofMillis(200));
    assertThat(set.name()).isEqualTo(c.name());
    // etcd keeps its default interval for 0.
    assertThat(c.withWatchProgressNotifyInterval(Duration.ZERO).watchProgressNotifyInterval())
        .isEqualTo(Duration.ofMinutes(10));
    assertThatThrownBy(() -> c.withMaxRequestBytes(0)).hasMessageContaining("--max-request-bytes");
    assertThatThrownBy(() -> c.withWatchProgressNotifyInterval(Duration.ofSeconds(-1)))
        .hasMessageContaining("--experimental-watch-progress-notify-interval");
  }

  @Test
  void durationsAreReadAsGoWritesThem() {
    String f = "--experimental-watch-progress-notify-interval";
    assertThat(MemberConfig.goDuration(f, "10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(MemberConfig.goDuration(f, "200ms")).isEqualTo(Duration.ofMillis(200));
    assertThat(MemberConfig.goDuration(f, "1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(MemberConfig.goDuration(f, "1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(MemberConfig.goDuration(f, "250us")).isEqualTo(Duration.ofNanos(250_000));
    assertThat(MemberConfig.goDuration(f, "0")).isEqualTo(Duration.ZERO);
    assertThat(MemberConfig.goDuration(f, "-5s")).isEqualTo(Duration.ofSeconds(-5));
    for (String bad : new String[] {"", "10", "5 s", "1d", "ms", "1m-2s"}) {
      assertThatThrownBy(() -> MemberConfig.goDuration(f, bad))
          .as(bad)
          .hasMessageContaining(f)
          .hasMessageContaining("not a duration");
    }
  }

  @Test
  void storeCommandTakesEtcdsTuningFlags() {
    StoreCommand cmd = new StoreCommand();
    new picocli.CommandLine(cmd)
        .parseArgs(
            "--max-request-bytes",
            "2097152",
            "--experimental-watch-progress-notify-interval",
            "5s",
            "--snapshot-count",
            "5000");
    assertThat(cmd.config().maxRequestBytes()).isEqualTo(2097152);
    assertThat(cmd.config().snapshotCount()).isEqualTo(5000);
    assertThat(cmd.config().watchProgressNotifyInterval()).isEqualTo(Duration.ofSeconds(5));
    StoreCommand bad = new StoreCommand();
    new picocli.CommandLine(bad).parseArgs("--experimental-watch-progress-notify-interval", "5");
    assertThatThrownBy(bad::config)
        .hasMessageContaining("--experimental-watch-progress-notify-interval: '5'");
    StoreCommand negative = new StoreCommand();
    new picocli.CommandLine(negative).parseArgs("--snapshot-count", "-1");
    assertThatThrownBy(negative::config).hasMessageContaining("--snapshot-count");
    StoreCommand zero = new StoreCommand();
    new picocli.CommandLine(zero).parseArgs("--snapshot-count", "0");
    assertThat(zero.config().snapshotCount()).isEqualTo(MemberConfig.DEFAULT_SNAPSHOT_COUNT);
    assertThat(new StoreCommand().config().snapshotCount()).isEqualTo(100_000);
  }
}

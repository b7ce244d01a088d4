package dev.kubelite.store.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.client.WriteResult;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member process ({@code bin/kubelite store}) killed with SIGKILL right after a local Raft
 * snapshot compacted its log (decision 0105: the snapshot records only metadata, the MVCC store is
 * the state) restarts with every acknowledged write, each applied once (the revision counts every
 * write exactly once).
 */
class SnapshotCrashIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();

  /** Entries the log keeps behind a snapshot (RaftDriver.Options.defaults()). */
  private static final long KEPT = 5_000;

  @TempDir Path dir;

  private Process process;

  @AfterEach
  void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private void start(int clientPort, int peerPort) throws IOException {
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    process =
        new ProcessBuilder(
                ROOT.resolve("bin/kubelite").toString(),
                "store",
                "--name",
                "solo",
                "--data-dir",
                dir.resolve("solo").toString(),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                "solo=" + peer,
                "--snapshot-count",
                "500")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("solo.log").toFile()))
            .start();
  }

  /** The index of the Raft log's snapshot file, 0 if none. */
  private long snapshotIndex() throws IOException {
    Path wal = dir.resolve("solo").resolve("member").resolve("wal");
    if (!Files.isDirectory(wal)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(wal)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.matches("snap-\\d{20}\\.snap"))
          .mapToLong(n -> Long.parseLong(n.substring(5, 25)))
          .max()
          .orElse(0);
    }
  }

  @Test
  void sigkillRightAfterASnapshotAndCompactionLosesNoAcknowledgedWrite() throws Exception {
    EtcdProcess.binary("etcdctl");
    int clientPort = FreePorts.next();
    int peerPort = FreePorts.next();
    start(clientPort, peerPort);
    String endpoint = "127.0.0.1:" + clientPort;
    await()
        .atMost(Duration.ofSeconds(120)) // the first start may build the jar
        .pollInterval(Duration.ofMillis(200))
        .until(() -> EtcdProcess.Etcdctl.run(endpoint, "put", "/warm", "up").exitCode() == 0);

    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    byte[] value = "v".repeat(100).getBytes(StandardCharsets.UTF_8);
    try (RemoteKvStore kv = RemoteKvStore.connect(List.of(endpoint))) {
      // Enough writes that a snapshot compacts the log (it keeps 5,000 entries behind it).
      int next = 0;
      while (snapshotIndex() <= KEPT + 500) {
        List<CompletableFuture<WriteResult>> batch = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 64; i++, next++) {
          String key = String.format("/k/%06d", next);
          keys.add(key);
          batch.add(kv.put(key.getBytes(StandardCharsets.UTF_8), value));
        }
        for (int i = 0; i < batch.size(); i++) {
          batch.get(i).get(30, TimeUnit.SECONDS);
          acknowledged.add(keys.get(i));
        }
      }
      // Killed the moment the snapshot file shows, with writes still arriving.
      List<CompletableFuture<WriteResult>> inFlight = new ArrayList<>();
      for (int i = 0; i < 64; i++, next++) {
        String key = String.format("/k/%06d", next);
        inFlight.add(
            kv.put(key.getBytes(StandardCharsets.UTF_8), value)
                .whenComplete(
                    (r, err) -> {
                      if (err == null) {
                        acknowledged.add(key);
                      }
                    }));
      }
      long snapshotAtKill = snapshotIndex();
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      // Writes cut off by the kill count only if they were acknowledged; wait for their outcome.
      CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new))
          .handle((r, err) -> null)
          .completeOnTimeout(null, 20, TimeUnit.SECONDS)
          .join();
      assertThat(snapshotAtKill).isGreaterThan(KEPT + 500);
    }

    start(clientPort, peerPort);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                EtcdProcess.Etcdctl.run(endpoint, "get", "/warm", "--print-value-only")
                    .output()
                    .equals("up\n"));
    EtcdProcess.Result keys =
        EtcdProcess.Etcdctl.run(endpoint, "get", "/k/", "--prefix", "--keys-only");
    Set<String> present = Set.copyOf(keys.output().lines().filter(l -> !l.isEmpty()).toList());
    assertThat(present).containsAll(acknowledged);
    // Each write made one revision: /warm is revision 2, then one per key present, none twice.
    EtcdProcess.Result status = EtcdProcess.Etcdctl.run(endpoint, "get", "/warm", "-w", "json");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"revision\":(\\d+)").matcher(status.output());
    assertThat(m.find()).as(status.output()).isTrue();
    assertThat(Long.parseLong(m.group(1))).isEqualTo(1 + 1 + present.size());
    String log = Files.readString(dir.resolve("solo.log"));
    assertThat(log).doesNotContain("installed snapshot");
  }
}

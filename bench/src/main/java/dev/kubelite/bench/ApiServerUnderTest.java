package dev.kubelite.bench;

import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.audit.AuditConfig;
import dev.kubelite.apiserver.http.RequestLimits;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The process {@link ApiServerBench} measures: the API server on a free loopback port, backed by
 * either the all-in-one default — a single-member Kubelite store in this same process, reached
 * through {@link EmbeddedKvStore}, fsync on — or remote endpoints (a real etcd) through {@link
 * RemoteKvStore}. Prints {@code PORT <n>} on stdout once it serves, and stops when stdin closes (so
 * it never outlives the benchmark).
 *
 * <p>Usage: {@code ApiServerUnderTest embedded <data-dir>} or {@code ApiServerUnderTest remote
 * <host:port,...>}, then optionally {@code per-client=<n>} (the per-client in-flight cap, 0: none)
 * and {@code audit=<path>} (an audit log of every request at Metadata level).
 */
public final class ApiServerUnderTest {
  private ApiServerUnderTest() {}

  public static void main(String[] args) throws Exception {
    boolean usage = args.length < 2 || !(args[0].equals("embedded") || args[0].equals("remote"));
    RequestLimits.Settings limits = RequestLimits.Settings.DEFAULTS;
    AuditConfig audit = null;
    for (int i = 2; i < args.length && !usage; i++) {
      if (args[i].matches("per-client=\\d+")) {
        limits =
            limits.withPerClient(
                Integer.parseInt(args[i].substring("per-client=".length())),
                limits.maxWatchesPerClient());
      } else if (args[i].startsWith("audit=") && args[i].length() > "audit=".length()) {
        // Every request at Metadata level, with a queue deep enough that a busy run drops none.
        audit =
            AuditConfig.metadata(Path.of(args[i].substring("audit=".length())))
                .withQueueSize(1_000_000);
      } else {
        usage = true;
      }
    }
    if (usage) {
      System.err.println(
          "usage: ApiServerUnderTest embedded <data-dir> | remote <host:port,...>"
              + " [per-client=<max requests in flight per client, 0: none>]"
              + " [audit=<audit log path>]");
      System.exit(2);
    }
    StoreServer member = null;
    KvStore store;
    if (args[0].equals("embedded")) {
      String client = "http://127.0.0.1:" + freePort();
      String peer = "http://127.0.0.1:" + freePort();
      member =
          StoreServer.start(
              MemberConfig.fromFlags(
                  "m1", args[1], client, client, peer, peer, null, null, "apiserver-bench"));
      store = EmbeddedKvStore.of(member);
    } else {
      store = RemoteKvStore.connect(List.of(args[1].split(",")));
    }
    awaitStore(store);
    ApiServer api =
        ApiServer.start(
            store, new ApiServer.Options("127.0.0.1", 0).withLimits(limits).withAudit(audit));
    System.out.println("PORT " + api.port());
    System.out.flush();
    while (System.in.read() >= 0) {
      // Runs until the benchmark closes our stdin (or dies).
    }
    api.close();
    store.close();
    if (member != null) {
      member.close();
    }
    System.exit(0);
  }

  /** A fresh member elects itself first; until then requests fail with "no leader". */
  private static void awaitStore(KvStore store) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (store.currentRevision().get(5, TimeUnit.SECONDS) >= 1) {
          return;
        }
      } catch (Exception e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the store did not become ready in 60 s", e);
        }
      }
      Thread.sleep(100); // polling a starting store, not synchronising a test
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}

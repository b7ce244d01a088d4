package dev.kubelite.client.testing;

import static org.awaitility.Awaitility.await;

import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.client.KubeClient;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real API server on a free loopback port over a real in-process store member (the embedded
 * client), optionally reached through a {@link TcpProxy} that tests can cut.
 */
public final class Cluster implements AutoCloseable {
  public final Path dir;
  public final StoreServer storeServer;
  public final KvStore store;
  public final ApiServer api;

  public Cluster(int watchCacheWindow) throws Exception {
    this(watchCacheWindow, UnaryOperator.identity());
  }

  /**
   * As {@link #Cluster(int)}, with the API server reaching the store through {@code apiStore}
   * applied to the real client (e.g. a wrapper that delays reads); {@link #store} stays the real
   * client.
   */
  public Cluster(int watchCacheWindow, UnaryOperator<KvStore> apiStore) throws Exception {
    dir = Files.createTempDirectory("client-test");
    String client = "http://127.0.0.1:" + FreePorts.next();
    String peer = "http://127.0.0.1:" + FreePorts.next();
    storeServer =
        StoreServer.start(
            MemberConfig.fromFlags(
                "m1",
                dir.resolve("store").toString(),
                client,
                client,
                peer,
                peer,
                null,
                null,
                "client-test"));
    store = EmbeddedKvStore.of(storeServer);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> store.currentRevision().get(5, TimeUnit.SECONDS) >= 1);
    api =
        ApiServer.start(
            apiStore.apply(store), new ApiServer.Options("127.0.0.1", 0, watchCacheWindow));
  }

  public Cluster() throws Exception {
    this(1000);
  }

  public URI url() {
    return URI.create("http://127.0.0.1:" + api.port());
  }

  public KubeClient client() {
    return new KubeClient(url());
  }

  /** Compacts the store at its current revision; returns that revision. */
  public long compact() throws Exception {
    long now = store.currentRevision().get(10, TimeUnit.SECONDS);
    store.compact(now).get(10, TimeUnit.SECONDS);
    return now;
  }

  @Override
  public void close() {
    api.close();
    store.close();
    storeServer.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean up " + dir, e);
    }
  }
}

package dev.kubelite.client.testing;

import static org.awaitility.Awaitility.await;

import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.auth.AuthorizerChain;
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
import java.util.List;
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
    this(o -> new ApiServer.Options("127.0.0.1", 0, watchCacheWindow));
  }

  /**
   * An API server with authentication by {@link TestTokens} and {@code --authorization-mode} Node
   * and RBAC (the bootstrap policy written at start); {@link #client(String)} acts as a user.
   */
  public static Cluster secured() throws Exception {
    return new Cluster(
        o ->
            o.withAuthentication(TestTokens.AUTHENTICATOR)
                .withAuthorization(AuthorizerChain.of(List.of("Node", "RBAC"))));
  }

  /** With the API server's options (from the defaults) changed by {@code options}. */
  public Cluster(UnaryOperator<ApiServer.Options> options) throws Exception {
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
    api = ApiServer.start(store, options.apply(new ApiServer.Options("127.0.0.1", 0)));
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

  /** A client sending {@code Authorization: Bearer <token>} (see {@link TestTokens}). */
  public KubeClient client(String token) {
    return new KubeClient(url(), token, Duration.ofSeconds(30));
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

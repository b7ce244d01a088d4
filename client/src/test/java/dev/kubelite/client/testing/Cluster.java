package dev.kubelite.client.testing;

import static org.awaitility.Awaitility.await;

import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.auth.AuthenticationConfig;
import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.pki.PemFiles;
import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiSpec;
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

  /** The PKI of a {@link #secure} cluster (null for a plain-HTTP one). */
  public final PkiPaths pki;

  public Cluster(int watchCacheWindow) throws Exception {
    this(watchCacheWindow, false, UnaryOperator.identity(), UnaryOperator.identity());
  }

  /**
   * As {@link #Cluster(int)}, with the API server reaching the store through {@code apiStore}
   * applied to the real client (e.g. a wrapper that delays reads); {@link #store} stays the real
   * client.
   */
  public Cluster(int watchCacheWindow, UnaryOperator<KvStore> apiStore) throws Exception {
    this(watchCacheWindow, false, apiStore, UnaryOperator.identity());
  }

  /**
   * A cluster serving HTTPS with kube-apiserver's authentication (client certificates of its own
   * PKI under {@code dir/pki}, ServiceAccount tokens signed with its {@code sa.key}; no anonymous
   * requests), as {@code kubelite up} runs it. {@link #kubeconfig} writes a kubeconfig for one of
   * the PKI's client certificates.
   */
  public static Cluster secure() throws Exception {
    return new Cluster(1000, true, UnaryOperator.identity(), UnaryOperator.identity());
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
    this(1000, false, UnaryOperator.identity(), options);
  }

  private Cluster(
      int watchCacheWindow,
      boolean secure,
      UnaryOperator<KvStore> apiStore,
      UnaryOperator<ApiServer.Options> configure)
      throws Exception {
    dir = Files.createTempDirectory("client-test");
    pki =
        secure
            ? Pki.ensure(dir.resolve("pki"), PkiSpec.defaults().withKubeletNodes(List.of("node-1")))
            : null;
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
    ApiServer.Options options = new ApiServer.Options("127.0.0.1", 0, watchCacheWindow);
    if (secure) {
      options =
          options
              .withTls(
                  new ApiServer.ServingTls(
                      pki.apiserver().cert(), pki.apiserver().key(), pki.ca().cert()))
              .withAuthentication(
                  AuthenticationConfig.x509Only()
                      .withServiceAccountKeys(
                          List.of(PemFiles.readPublicKey(pki.serviceAccountPublicKey()))));
    }
    api = ApiServer.start(apiStore.apply(store), configure.apply(options));
  }

  /** A kubeconfig (files referenced by path) for {@code user}'s certificate; secure clusters. */
  public Path kubeconfig(PkiPaths.CertPaths user) throws IOException {
    Path file = Files.createTempFile(dir, "kubeconfig", ".yaml");
    Files.writeString(
        file,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "
            + url()
            + "\n    certificate-authority: "
            + pki.ca().cert()
            + "\nusers:\n- name: u\n  user:\n    client-certificate: "
            + user.cert()
            + "\n    client-key: "
            + user.key()
            + "\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n");
    return file;
  }

  /** A client authenticated with {@code user}'s certificate; secure clusters. */
  public KubeClient client(PkiPaths.CertPaths user) throws IOException {
    return KubeClient.fromConfig(KubeConfig.parse(kubeconfig(user)));
  }

  public Cluster() throws Exception {
    this(1000);
  }

  public URI url() {
    return URI.create((pki == null ? "http" : "https") + "://127.0.0.1:" + api.port());
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

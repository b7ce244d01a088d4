package dev.kubelite.apiserver;

import dev.kubelite.apiserver.auth.Authenticator;
import dev.kubelite.apiserver.auth.Authorizer;
import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.apiserver.auth.BootstrapPolicy;
import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.apiserver.encryption.KeyTransformers;
import dev.kubelite.apiserver.encryption.ValueTransformer;
import dev.kubelite.apiserver.http.ApiRouter;
import dev.kubelite.apiserver.http.HealthChecks;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceTable;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.ObjectStorage;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.apiserver.storage.WatchCaches;
import dev.kubelite.store.client.KvStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubelite's API server: the Kubernetes REST API over HTTP on Vert.x, with the store (through
 * {@link KvStore}) as its only backend. A request flows http ({@link ApiRouter}: path, verb,
 * content negotiation) → handler (one per verb) → {@link Registry} (Kubernetes object semantics) →
 * {@link ObjectStorage} (keys and JSON values) → {@link KvStore}.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

  /**
   * Where to listen (plain HTTP: TLS and authentication arrive with the security work), how many
   * recent events each watch cache keeps, and how resources are encrypted at rest ({@code
   * --encryption-provider-config}; null = every value in plaintext, encrypted ones unreadable).
   */
  public record Options(
      String bindAddress,
      int port,
      int watchCacheWindow,
      EncryptionConfig encryption,
      Authenticator authenticator,
      Authorizer authorizer) {
    public Options(String bindAddress, int port) {
      this(bindAddress, port, WatchCache.DEFAULT_WINDOW);
    }

    public Options(String bindAddress, int port, int watchCacheWindow) {
      this(bindAddress, port, watchCacheWindow, null, Authenticator.NONE, Authorizer.ALLOW_ALL);
    }

    public Options withEncryption(EncryptionConfig config) {
      return new Options(bindAddress, port, watchCacheWindow, config, authenticator, authorizer);
    }

    /** Who sent each request; {@link Authenticator#NONE} (the default) trusts everyone. */
    public Options withAuthentication(Authenticator a) {
      return new Options(bindAddress, port, watchCacheWindow, encryption, a, authorizer);
    }

    /** What each user may do; {@link Authorizer#ALLOW_ALL} (the default) allows everything. */
    public Options withAuthorization(Authorizer a) {
      return new Options(bindAddress, port, watchCacheWindow, encryption, authenticator, a);
    }
  }

  /** Which transformer stores each served resource's values under {@code config}. */
  static KeyTransformers transformers(ResourceTable table, EncryptionConfig config) {
    if (config == null) {
      return KeyTransformers.none();
    }
    Map<String, ValueTransformer> byPrefix = new LinkedHashMap<>();
    for (ResourceType t : table.all()) {
      ValueTransformer v = config.transformerFor(t.group(), t.plural());
      byPrefix.put(t.keyPrefix(), v);
      if (v != ValueTransformer.PLAINTEXT) {
        log.info(
            "encryption at rest: {} written with {}",
            t.qualifiedName(),
            v.writePrefix().isEmpty() ? "identity (plaintext)" : v.writePrefix());
      }
    }
    return KeyTransformers.of(byPrefix);
  }

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final HttpServer server;
  private final Registry registry;
  private final CompletableFuture<Void> bootstrapped;
  private volatile boolean closed;

  /** How long the {@code etcd} health check waits for the store. */
  static final long STORE_CHECK_TIMEOUT_SECONDS = 2;

  private ApiServer(
      Vertx vertx,
      boolean ownsVertx,
      HttpServer server,
      Registry registry,
      CompletableFuture<Void> bootstrapped) {
    this.bootstrapped = bootstrapped;
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.server = server;
    this.registry = registry;
  }

  /**
   * Starts as {@link #listen} does and waits (up to 60 s) until the default namespaces exist and
   * the watch caches run, so the API is complete when this returns. Fails if the store does not
   * answer in that time or the port is taken.
   */
  public static ApiServer start(KvStore store, Options options) throws Exception {
    return start(Vertx.vertx(), true, store, options);
  }

  public static ApiServer start(Vertx vertx, boolean ownsVertx, KvStore store, Options options)
      throws Exception {
    ApiServer s = listen(vertx, ownsVertx, store, options);
    try {
      s.awaitBootstrap(60, TimeUnit.SECONDS);
      return s;
    } catch (Exception e) {
      s.close();
      throw e;
    }
  }

  /**
   * Listens at once, then bootstraps in the background: creates the default namespaces if missing
   * and starts the watch caches, retrying every second while the store does not answer. Until then
   * {@code /readyz} fails ({@link #awaitBootstrap} waits for it). Fails if the port is taken.
   */
  public static ApiServer listen(KvStore store, Options options) throws Exception {
    return listen(Vertx.vertx(), true, store, options);
  }

  public static ApiServer listen(Vertx vertx, boolean ownsVertx, KvStore store, Options options)
      throws Exception {
    ResourceTable table = ResourceTable.builtIn();
    ObjectStorage storage = new ObjectStorage(store, transformers(table, options.encryption()));
    WatchCaches caches = new WatchCaches(storage);
    Registry registry = new Registry(storage, caches, table, Clock.systemUTC());
    if (options.authorizer() instanceof AuthorizerChain chain) {
      chain.attach(registry);
    }
    CompletableFuture<Void> bootstrapped = new CompletableFuture<>();
    Supplier<Future<Void>> alwaysOk = Future::succeededFuture;
    HealthChecks.Check ping = new HealthChecks.Check("ping", alwaysOk);
    HealthChecks.Check logCheck = new HealthChecks.Check("log", alwaysOk);
    HealthChecks.Check etcd =
        new HealthChecks.Check(
            "etcd",
            () ->
                Future.fromCompletionStage(
                        storage
                            .currentRevision()
                            .orTimeout(STORE_CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS))
                    .mapEmpty());
    HealthChecks.Check bootstrap =
        new HealthChecks.Check(
            "poststarthook/bootstrap-controller",
            () ->
                bootstrapped.isDone() && !bootstrapped.isCompletedExceptionally()
                    ? Future.succeededFuture()
                    : Future.failedFuture("not finished"));
    HealthChecks health =
        new HealthChecks(
            List.of(ping, logCheck, etcd, bootstrap), List.of(ping, logCheck, etcd, bootstrap));
    try {
      ApiRouter api =
          new ApiRouter(registry, health, store, options.authenticator(), options.authorizer());
      HttpServer server =
          vertx
              .createHttpServer(
                  new HttpServerOptions()
                      .setHost(options.bindAddress())
                      .setPort(options.port())
                      .setCompressionSupported(true)
                      .setMaxInitialLineLength(64 * 1024)
                      .setMaxHeaderSize(64 * 1024)
                      // kube-apiserver's --http2-max-streams-per-connection default.
                      .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(1000)))
              .requestHandler(api.router(vertx))
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      log.info("API server listening on http://{}:{}", options.bindAddress(), server.actualPort());
      ApiServer s = new ApiServer(vertx, ownsVertx, server, registry, bootstrapped);
      s.bootstrap(options, 1);
      return s;
    } catch (Exception e) {
      caches.close();
      if (ownsVertx) {
        vertx.close();
      }
      throw e;
    }
  }

  /** Default namespaces, then watch caches; retried every second while the store fails. */
  private void bootstrap(Options options, int attempt) {
    if (closed) {
      return;
    }
    registry
        .ensureDefaultNamespaces()
        .thenCompose(v -> registry.ensureApiService(server.actualPort()))
        .thenCompose(
            v ->
                options.authorizer() instanceof AuthorizerChain chain && chain.rbacEnabled()
                    ? BootstrapPolicy.ensure(registry)
                    : CompletableFuture.<Void>completedFuture(null))
        .thenCompose(v -> registry.startWatchCaches(options.watchCacheWindow()))
        .whenComplete(
            (v, e) -> {
              if (e == null) {
                log.info("API server ready: default namespaces exist, watch caches started");
                bootstrapped.complete(null);
                return;
              }
              if (attempt == 1 || attempt % 30 == 0) {
                log.warn(
                    "API server not ready yet (attempt {}): the store does not answer: {}; retrying"
                        + " every second (check --etcd-servers)",
                    attempt,
                    e.toString());
              }
              if (!closed) {
                vertx.setTimer(1000, id -> bootstrap(options, attempt + 1));
              }
            });
  }

  /** Waits until the default namespaces exist and the watch caches run. */
  public void awaitBootstrap(long timeout, TimeUnit unit) throws Exception {
    bootstrapped.get(timeout, unit);
  }

  public int port() {
    return server.actualPort();
  }

  public Registry registry() {
    return registry;
  }

  @Override
  public void close() {
    closed = true;
    registry.caches().close();
    try {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("closing the HTTP server failed: {}", e.toString());
    }
    if (ownsVertx) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("closing Vert.x failed: {}", e.toString());
      }
    }
  }
}

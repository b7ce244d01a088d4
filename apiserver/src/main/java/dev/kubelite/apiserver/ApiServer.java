package dev.kubelite.apiserver;

import dev.kubelite.apiserver.http.ApiRouter;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceTable;
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
import java.util.concurrent.TimeUnit;
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
   * Where to listen (plain HTTP: TLS and authentication arrive with the security work) and how many
   * recent events each watch cache keeps.
   */
  public record Options(String bindAddress, int port, int watchCacheWindow) {
    public Options(String bindAddress, int port) {
      this(bindAddress, port, WatchCache.DEFAULT_WINDOW);
    }
  }

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final HttpServer server;
  private final Registry registry;

  private ApiServer(Vertx vertx, boolean ownsVertx, HttpServer server, Registry registry) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.server = server;
    this.registry = registry;
  }

  /**
   * Creates the default namespaces if missing, then listens. Fails if the store cannot be reached
   * within the store client's retries or the port is taken.
   */
  public static ApiServer start(KvStore store, Options options) throws Exception {
    return start(Vertx.vertx(), true, store, options);
  }

  public static ApiServer start(Vertx vertx, boolean ownsVertx, KvStore store, Options options)
      throws Exception {
    ObjectStorage storage = new ObjectStorage(store);
    WatchCaches caches = new WatchCaches(storage);
    Registry registry = new Registry(storage, caches, ResourceTable.builtIn(), Clock.systemUTC());
    try {
      registry.ensureDefaultNamespaces().get(60, TimeUnit.SECONDS);
      registry.startWatchCaches(options.watchCacheWindow()).get(60, TimeUnit.SECONDS);
      ApiRouter api =
          new ApiRouter(
              registry, () -> Future.fromCompletionStage(storage.currentRevision()).mapEmpty());
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
      return new ApiServer(vertx, ownsVertx, server, registry);
    } catch (Exception e) {
      caches.close();
      if (ownsVertx) {
        vertx.close();
      }
      throw e;
    }
  }

  public int port() {
    return server.actualPort();
  }

  public Registry registry() {
    return registry;
  }

  @Override
  public void close() {
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

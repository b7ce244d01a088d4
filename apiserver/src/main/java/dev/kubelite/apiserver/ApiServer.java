package dev.kubelite.apiserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.audit.AuditConfig;
import dev.kubelite.apiserver.audit.AuditLog;
import dev.kubelite.apiserver.auth.AuthenticationConfig;
import dev.kubelite.apiserver.auth.Authenticator;
import dev.kubelite.apiserver.auth.Authorizer;
import dev.kubelite.apiserver.auth.AuthorizerChain;
import dev.kubelite.apiserver.auth.BootstrapPolicy;
import dev.kubelite.apiserver.auth.RequestAuthenticator;
import dev.kubelite.apiserver.encryption.EncryptionConfig;
import dev.kubelite.apiserver.encryption.KeyTransformers;
import dev.kubelite.apiserver.encryption.ValueTransformer;
import dev.kubelite.apiserver.handler.TokenRequests;
import dev.kubelite.apiserver.http.ApiRouter;
import dev.kubelite.apiserver.http.HealthChecks;
import dev.kubelite.apiserver.http.RequestLimits;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceTable;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.ObjectStorage;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.apiserver.storage.WatchCaches;
import dev.kubelite.store.client.KvStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
   * Where to listen, how many recent events each watch cache keeps, how resources are encrypted at
   * rest ({@code --encryption-provider-config}; null = every value in plaintext, encrypted ones
   * unreadable), who sent each request, what they may do, whether to serve HTTPS ({@code tls}; null
   * = plain HTTP) and how requests are authenticated ({@code authentication}; when set it replaces
   * {@code authenticator} with kube-apiserver's chain of x509, token file and ServiceAccount token
   * authenticators).
   */
  public record Options(
      String bindAddress,
      int port,
      int watchCacheWindow,
      EncryptionConfig encryption,
      Authenticator authenticator,
      Authorizer authorizer,
      RequestLimits.Settings limits,
      AuditConfig audit,
      ServingTls tls,
      AuthenticationConfig authentication) {
    public Options(String bindAddress, int port) {
      this(bindAddress, port, WatchCache.DEFAULT_WINDOW);
    }

    public Options(String bindAddress, int port, int watchCacheWindow) {
      this(
          bindAddress,
          port,
          watchCacheWindow,
          null,
          Authenticator.NONE,
          Authorizer.ALLOW_ALL,
          RequestLimits.Settings.DEFAULTS,
          null,
          null,
          null);
    }

    public Options withEncryption(EncryptionConfig config) {
      Copy c = new Copy(this);
      c.encryption = config;
      return c.build();
    }

    /** Who sent each request; {@link Authenticator#NONE} (the default) trusts everyone. */
    public Options withAuthentication(Authenticator a) {
      Copy c = new Copy(this);
      c.authenticator = a;
      return c.build();
    }

    /** What each user may do; {@link Authorizer#ALLOW_ALL} (the default) allows everything. */
    public Options withAuthorization(Authorizer a) {
      Copy c = new Copy(this);
      c.authorizer = a;
      return c.build();
    }

    /** Request timeout and in-flight caps ({@link RequestLimits.Settings#DEFAULTS} by default). */
    public Options withLimits(RequestLimits.Settings l) {
      Copy c = new Copy(this);
      c.limits = l;
      return c.build();
    }

    /** The audit log (null, the default: none). */
    public Options withAudit(AuditConfig a) {
      Copy c = new Copy(this);
      c.audit = a;
      return c.build();
    }

    /** HTTPS with this certificate (and x509 client authentication if it names a client CA). */
    public Options withTls(ServingTls t) {
      Copy c = new Copy(this);
      c.tls = t;
      return c.build();
    }

    /** kube-apiserver's authenticator chain with these settings (replaces the authenticator). */
    public Options withAuthentication(AuthenticationConfig config) {
      Copy c = new Copy(this);
      c.authentication = config;
      return c.build();
    }

    /** A mutable copy, so each wither names only the field it changes. */
    private static final class Copy {
      private final String bindAddress;
      private final int port;
      private final int watchCacheWindow;
      EncryptionConfig encryption;
      Authenticator authenticator;
      Authorizer authorizer;
      RequestLimits.Settings limits;
      AuditConfig audit;
      ServingTls tls;
      AuthenticationConfig authentication;

      Copy(Options o) {
        bindAddress = o.bindAddress;
        port = o.port;
        watchCacheWindow = o.watchCacheWindow;
        encryption = o.encryption;
        authenticator = o.authenticator;
        authorizer = o.authorizer;
        limits = o.limits;
        audit = o.audit;
        tls = o.tls;
        authentication = o.authentication;
      }

      Options build() {
        return new Options(
            bindAddress,
            port,
            watchCacheWindow,
            encryption,
            authenticator,
            authorizer,
            limits,
            audit,
            tls,
            authentication);
      }
    }
  }

  /**
   * HTTPS serving, kube-apiserver's {@code --tls-cert-file}, {@code --tls-private-key-file} and
   * {@code --client-ca-file} (null: no client certificates are asked for). Client certificates are
   * requested, not required, so bearer tokens still work; one that is sent must chain to the client
   * CA and be valid, or the handshake fails. TLS 1.2 and 1.3 only.
   */
  public record ServingTls(Path certFile, Path keyFile, Path clientCaFile) {
    public ServingTls {
      for (Path p : new Path[] {certFile, keyFile}) {
        if (p == null) {
          throw new IllegalArgumentException(
              "HTTPS needs both --tls-cert-file and --tls-private-key-file");
        }
      }
      for (Path p : new Path[] {certFile, keyFile, clientCaFile}) {
        if (p != null && !Files.isReadable(p)) {
          throw new IllegalArgumentException("cannot read the TLS file " + p);
        }
      }
    }

    void apply(HttpServerOptions o) {
      o.setSsl(true)
          .setUseAlpn(true)
          .setKeyCertOptions(
              new PemKeyCertOptions()
                  .setCertPath(certFile.toAbsolutePath().toString())
                  .setKeyPath(keyFile.toAbsolutePath().toString()));
      o.setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"));
      if (clientCaFile != null) {
        o.setTrustOptions(
            new PemTrustOptions().addCertPath(clientCaFile.toAbsolutePath().toString()));
        o.setClientAuth(ClientAuth.REQUEST);
      }
    }
  }

  /** Where a ServiceAccount's uid comes from: the watch cache, else a read of the store. */
  static RequestAuthenticator.ServiceAccountLookup serviceAccountLookup(Registry registry) {
    ResourceType sa = registry.table().find("", "v1", "serviceaccounts").orElseThrow();
    return (ns, name) -> {
      WatchCache cache = registry.caches().cache(sa.keyPrefix());
      if (cache != null) {
        WatchCache.Lookup l = cache.lookup(sa.key(ns, name));
        if (l.answered()) {
          return CompletableFuture.completedFuture(
              uidOf(l.object() == null ? null : l.object().object()));
        }
      }
      return registry
          .get(sa, ns, name)
          .handle(
              (obj, e) -> {
                if (e == null) {
                  return uidOf(obj);
                }
                Throwable c =
                    e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (c instanceof ApiException a && a.code() == 404) {
                  return Optional.<String>empty();
                }
                throw c instanceof RuntimeException r ? r : new CompletionException(c);
              });
    };
  }

  private static Optional<String> uidOf(ObjectNode obj) {
    if (obj == null) {
      return Optional.empty();
    }
    String uid = obj.path("metadata").path("uid").asText("");
    return uid.isEmpty() ? Optional.empty() : Optional.of(uid);
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
  private AuditLog auditLog;

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
    AuditLog auditLog = null;
    try {
      Authenticator authenticator =
          options.authentication() == null
              ? options.authenticator()
              : new RequestAuthenticator(
                  options.authentication(), serviceAccountLookup(registry), Clock.systemUTC());
      ApiRouter api = new ApiRouter(registry, health, store, authenticator, options.authorizer());
      api.withLimits(new RequestLimits(options.limits()));
      if (options.audit() != null) {
        AuditConfig a = options.audit();
        auditLog =
            new AuditLog(a.path(), a.maxSizeMb(), a.maxBackups(), a.maxAgeDays(), a.queueSize());
        api.withAudit(a.policy(), auditLog);
        log.info("audit log: {} ({})", a.path(), a.policy());
      }
      AuthenticationConfig authn = options.authentication();
      if (authn != null && authn.signingKey() != null) {
        api.withTokenRequests(
            new TokenRequests(
                registry,
                authn.signingKey(),
                authn.issuers().get(0),
                authn.audiences(),
                Clock.systemUTC()));
      }
      HttpServerOptions httpOptions =
          new HttpServerOptions()
              .setHost(options.bindAddress())
              .setPort(options.port())
              .setCompressionSupported(true)
              // As kube-apiserver: gzip only answers above 128 KiB (big lists); small ones cost
              // more CPU to compress than they save.
              .setCompressionContentSizeThreshold(128 * 1024)
              .setMaxInitialLineLength(64 * 1024)
              .setMaxHeaderSize(64 * 1024)
              // kube-apiserver's --http2-max-streams-per-connection default.
              .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(1000));
      if (options.tls() != null) {
        options.tls().apply(httpOptions);
      }
      HttpServer server =
          vertx
              .createHttpServer(httpOptions)
              .requestHandler(api.router(vertx))
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      log.info(
          "API server listening on {}://{}:{}{}",
          options.tls() == null ? "http" : "https",
          options.bindAddress(),
          server.actualPort(),
          options.tls() == null || options.tls().clientCaFile() == null
              ? ""
              : " (client certificates from " + options.tls().clientCaFile() + ")");
      ApiServer s = new ApiServer(vertx, ownsVertx, server, registry, bootstrapped);
      s.auditLog = auditLog;
      s.bootstrap(options, 1);
      return s;
    } catch (Exception e) {
      caches.close();
      if (auditLog != null) {
        auditLog.close();
      }
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
    if (auditLog != null) {
      auditLog.close();
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

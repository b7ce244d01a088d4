package dev.kubelite.store.server;

import dev.kubelite.store.api.etcdserverpb.ClusterGrpcService;
import dev.kubelite.store.api.etcdserverpb.KVGrpcService;
import dev.kubelite.store.api.etcdserverpb.LeaseGrpcService;
import dev.kubelite.store.api.etcdserverpb.MaintenanceGrpcService;
import dev.kubelite.store.api.etcdserverpb.WatchGrpcService;
import dev.kubelite.store.raft.driver.RaftDriver;
import io.vertx.core.Vertx;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store member with its client port: etcd's v3 gRPC API (KV, Watch, Lease, Cluster, Maintenance)
 * on every {@code --listen-client-urls} address.
 */
public final class StoreServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StoreServer.class);

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final StoreMember member;
  private final ExecutorService watchWorkers;
  private final List<HttpServer> servers = new ArrayList<>();
  private final List<Integer> clientPorts = new ArrayList<>();
  private Lessor lessor;
  private LeaseApi leaseApi;
  private ClusterApi clusterApi;

  private StoreServer(Vertx vertx, boolean ownsVertx, StoreMember member) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.member = member;
    this.watchWorkers =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "store-watch");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts a member and serves its client URLs; uses (and later closes) its own Vert.x. */
  public static StoreServer start(MemberConfig config) throws Exception {
    return start(config, Vertx.vertx(), true);
  }

  public static StoreServer start(MemberConfig config, Vertx vertx, boolean ownsVertx)
      throws Exception {
    return start(config, vertx, ownsVertx, StoreMember.driverOptions(config));
  }

  /** For tests: a member with its own Raft tick and snapshot cadence. */
  static StoreServer start(
      MemberConfig config, Vertx vertx, boolean ownsVertx, RaftDriver.Options options)
      throws Exception {
    StoreMember member = StoreMember.start(config, vertx, options);
    StoreServer server = new StoreServer(vertx, ownsVertx, member);
    try {
      server.listen();
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void listen() throws Exception {
    WatchHub hub = new WatchHub(member.mvcc().currentRevision());
    member.mvcc().addListener(hub);
    // Twice --max-request-bytes, so that requests up to that are refused with etcd's
    // "request is too large" rather than by the transport (etcd's transport allows +512 KiB).
    GrpcServer grpc =
        GrpcServer.server(
            vertx,
            new GrpcServerOptions().setMaxMessageSize(2 * member.config().maxRequestBytes()));
    KvApi kv = new KvApi(member);
    grpc.addService(KVGrpcService.builder(kv).bind(KVGrpcService.Range).build());
    Grpc.unary(grpc, KVGrpcService.Put, (r, h) -> kv.put(r, ClientRequestIds.fromHeaders(h)));
    Grpc.unary(
        grpc,
        KVGrpcService.DeleteRange,
        (r, h) -> kv.deleteRange(r, ClientRequestIds.fromHeaders(h)));
    Grpc.unary(grpc, KVGrpcService.Txn, (r, h) -> kv.txn(r, ClientRequestIds.fromHeaders(h)));
    Grpc.unary(
        grpc, KVGrpcService.Compact, (r, h) -> kv.compact(r, ClientRequestIds.fromHeaders(h)));
    grpc.addService(WatchGrpcService.of(new WatchApi(member, hub, watchWorkers)));
    clusterApi = new ClusterApi(member, vertx);
    grpc.addService(ClusterGrpcService.of(clusterApi));
    grpc.addService(MaintenanceGrpcService.of(new MaintenanceApi(member)));
    lessor = Lessor.withDefaultTiming(member);
    lessor.start();
    leaseApi = new LeaseApi(member, lessor, vertx);
    grpc.addService(
        LeaseGrpcService.builder(leaseApi)
            .bind(
                LeaseGrpcService.LeaseKeepAlive,
                LeaseGrpcService.LeaseTimeToLive,
                LeaseGrpcService.LeaseLeases)
            .build());
    Grpc.unary(
        grpc,
        LeaseGrpcService.LeaseGrant,
        (r, h) -> leaseApi.leaseGrant(r, ClientRequestIds.fromHeaders(h)));
    Grpc.unary(
        grpc,
        LeaseGrpcService.LeaseRevoke,
        (r, h) -> leaseApi.leaseRevoke(r, ClientRequestIds.fromHeaders(h)));
    for (URI u : member.config().listenClientUrls()) {
      HttpServerOptions options =
          new HttpServerOptions()
              .setHost(u.getHost())
              .setPort(u.getPort())
              .setInitialSettings(
                  new Http2Settings().setMaxConcurrentStreams(MAX_CONCURRENT_STREAMS));
      if (MemberConfig.https(u)) {
        // TLS with ALPN (gRPC needs h2); with --client-cert-auth a client without a certificate
        // signed by --trusted-ca-file is refused in the handshake, as etcd does.
        member.config().tls().applyServer(options);
      }
      HttpServer http =
          vertx
              .createHttpServer(options)
              .connectionHandler(
                  conn -> {
                    SchemeInAuthority.install(conn);
                    FlushCoalescing.install(conn);
                  })
              .requestHandler(
                  req -> {
                    guardUnaryCall(req);
                    // Tells clients that writes they re-send with the same request id are applied
                    // once (decision 0012); etcd sends no such header.
                    req.response().headers().set(ClientRequestIds.DEDUPE_HEADER, "1");
                    grpc.handle(req);
                  })
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              // Binding takes milliseconds, but the first TLS set-up loads many classes: on a
              // starved machine (three members starting at once on two cores) 10 s ran out.
              .get(60, TimeUnit.SECONDS);
      servers.add(http);
      clientPorts.add(http.actualPort());
      log.info(
          "serving etcd v3 API for member {} on {}{}",
          member.config().name(),
          u,
          MemberConfig.https(u) && member.config().tls().clientCertAuth()
              ? " (client certificates required)"
              : "");
    }
  }

  /**
   * HTTP/2 streams one client connection may have open at once. Like etcd (grpc-go's default), no
   * practical limit: every watch and keep-alive holds a stream for its lifetime, and with a limit
   * of 100 (Vert.x's default) a client with 100 watches could not send a single request more on
   * that connection — it waited forever.
   */
  static final long MAX_CONCURRENT_STREAMS = 0xFFFF_FFFFL;

  /**
   * Unary calls must answer within this; streams (watch, keepalive, snapshot) are exempt, and so
   * are the maintenance calls whose work grows with the database (defragment, hash, hashkv): they
   * are always answered, however long the work takes.
   */
  static final long UNARY_DEADLINE_MS = StoreMember.REQUEST_TIMEOUT.toMillis() + 3_000;

  /**
   * A unary call still unanswered after {@link #UNARY_DEADLINE_MS} is reset. Every path through the
   * member answers sooner; this catches requests that never become a call at all, e.g. a body whose
   * gRPC length prefix promises bytes that never come (which would otherwise hang).
   */
  private void guardUnaryCall(io.vertx.core.http.HttpServerRequest req) {
    String path = req.path();
    if (path.endsWith("/Watch")
        || path.endsWith("/LeaseKeepAlive")
        || path.endsWith("/Snapshot")
        || path.endsWith("/Defragment")
        || path.endsWith("/Hash")
        || path.endsWith("/HashKV")) {
      return;
    }
    long timer =
        vertx.setTimer(
            UNARY_DEADLINE_MS,
            id -> {
              if (!req.response().ended() && !req.response().closed()) {
                log.warn(
                    "{} unanswered after {} ms; resetting the stream", path, UNARY_DEADLINE_MS);
                req.response().reset(8); // CANCEL
              }
            });
    // Answered calls cancel their guard, so the timer queue holds only calls in flight (at high
    // request rates, thousands of dead 10 s timers made every timer operation slower).
    req.response().endHandler(v -> vertx.cancelTimer(timer));
    req.response().closeHandler(v -> vertx.cancelTimer(timer));
  }

  public StoreMember member() {
    return member;
  }

  /** The ports actually bound (useful when a URL asked for port 0). */
  public List<Integer> clientPorts() {
    return List.copyOf(clientPorts);
  }

  @Override
  public void close() {
    for (HttpServer s : servers) {
      s.close();
    }
    if (leaseApi != null) {
      leaseApi.close();
    }
    if (clusterApi != null) {
      clusterApi.close();
    }
    if (lessor != null) {
      lessor.close();
    }
    member.close();
    watchWorkers.shutdownNow();
    if (ownsVertx) {
      vertx.close();
    }
  }
}

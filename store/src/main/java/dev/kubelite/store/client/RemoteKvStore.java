package dev.kubelite.store.client;

import dev.kubelite.store.api.etcdserverpb.ClusterGrpcClient;
import dev.kubelite.store.api.etcdserverpb.CompactionRequest;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.MaintenanceGrpcClient;
import dev.kubelite.store.api.etcdserverpb.MemberListRequest;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RangeResponse;
import dev.kubelite.store.api.etcdserverpb.StatusRequest;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchGrpcClient;
import dev.kubelite.store.api.etcdserverpb.WatchProgressRequest;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link KvStore} over etcd's v3 gRPC API (our store or a real etcd), through the generated Vert.x
 * gRPC client descriptors, to one or more endpoints. Requests go to a preferred endpoint and move
 * to the next one when it is unreachable or UNAVAILABLE. Retry policy: see
 * docs/decisions/0010-kvstore-client-interface.md. Futures and watch callbacks complete on a Vert.x
 * event loop.
 */
public final class RemoteKvStore implements KvStore {
  private static final Logger log = LoggerFactory.getLogger(RemoteKvStore.class);

  /**
   * gRPC request header carrying the request id of a mutating call: logged by servers, and the
   * deduplication key in our store (decision 0012).
   */
  public static final String REQUEST_ID_HEADER = "kubelite-request-id";

  /** gRPC request header: every call of this client with a lower counter has finished. */
  public static final String DONE_BELOW_HEADER = "kubelite-request-done-below";

  /**
   * gRPC response header our store sends on every answer: it applies a re-sent request id once.
   * etcd does not send it, so against etcd the client keeps etcd's retry rules.
   */
  public static final String DEDUPE_HEADER = "kubelite-request-dedupe";

  /** Client settings. */
  public record Options(
      Duration requestTimeout, int maxAttempts, Duration retryBackoff, Duration watchRetryFor) {
    public static Options defaults() {
      return new Options(Duration.ofSeconds(10), 5, Duration.ofMillis(100), Duration.ofSeconds(30));
    }
  }

  /** How a call may be retried; see the decision doc. */
  enum Retry {
    /** Reads: any transient failure, on the next endpoint. */
    READ,
    /** Applying twice equals applying once (compact); guarded by a mod_revision compare. */
    SAFE,
    /**
     * Only if the request was certainly not applied, or the store applies a re-sent request id once
     * (our store, not etcd).
     */
    UNSAFE
  }

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final GrpcClient client;
  private final Context context;
  private final List<SocketAddress> endpoints;
  private final Options options;
  private final ClientTls tls;
  private final AtomicInteger preferred = new AtomicInteger();
  private final RequestIds ids = new RequestIds();

  /** Whether the store deduplicates by request id: null until an answer told. */
  private final java.util.concurrent.atomic.AtomicReference<Boolean> storeDedupes =
      new java.util.concurrent.atomic.AtomicReference<>();

  private final List<RemoteWatch> watches = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private RemoteKvStore(
      Vertx vertx, boolean ownsVertx, List<String> endpoints, Options options, ClientTls tls) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("RemoteKvStore needs at least one endpoint");
    }
    long secure = endpoints.stream().filter(e -> e.startsWith("https://")).count();
    if (secure > 0 && secure < endpoints.size()) {
      throw new IllegalArgumentException(
          "endpoints mix https:// and plain ones " + endpoints + "; use one or the other");
    }
    if (secure > 0 && tls == null) {
      tls = new ClientTls(null, null, null); // https:// endpoints: TLS with the JDK's trust
    }
    if (tls != null && secure == 0 && endpoints.stream().anyMatch(e -> e.startsWith("http://"))) {
      throw new IllegalArgumentException(
          "TLS settings given but the endpoints are http:// " + endpoints + "; use https://");
    }
    this.tls = tls;
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.options = options;
    List<SocketAddress> eps = new ArrayList<>();
    for (String e : endpoints) {
      eps.add(parse(e));
    }
    this.endpoints = List.copyOf(eps);
    HttpClientOptions http =
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false)
            .setConnectTimeout(
                (int) Math.min(Integer.MAX_VALUE, options.requestTimeout().toMillis()));
    if (tls != null) {
      tls.apply(http);
    }
    this.client =
        GrpcClient.client(
            vertx,
            new GrpcClientOptions()
                .setMaxMessageSize(Integer.MAX_VALUE)
                .setScheduleDeadlineAutomatically(true),
            http);
    this.context = vertx.getOrCreateContext();
  }

  /**
   * Connects to {@code endpoints} ({@code host:port} or {@code http://host:port}) with its own
   * Vert.x.
   */
  public static RemoteKvStore connect(List<String> endpoints) {
    return connect(endpoints, null);
  }

  /**
   * Connects over TLS ({@code https://host:port} or {@code host:port} endpoints) with its own
   * Vert.x: trusting {@code tls}'s CA and presenting its client certificate, as {@code etcdctl
   * --cacert --cert --key}.
   */
  public static RemoteKvStore connect(List<String> endpoints, ClientTls tls) {
    Vertx vertx = Vertx.vertx();
    try {
      return new RemoteKvStore(vertx, true, endpoints, Options.defaults(), tls);
    } catch (RuntimeException e) {
      vertx.close();
      throw e;
    }
  }

  public static RemoteKvStore connect(Vertx vertx, List<String> endpoints, Options options) {
    return new RemoteKvStore(vertx, false, endpoints, options, null);
  }

  /** As {@link #connect(Vertx, List, Options)}, over TLS when {@code tls} is not null. */
  public static RemoteKvStore connect(
      Vertx vertx, List<String> endpoints, Options options, ClientTls tls) {
    return new RemoteKvStore(vertx, false, endpoints, options, tls);
  }

  static SocketAddress parse(String endpoint) {
    String e = endpoint.contains("://") ? endpoint : "http://" + endpoint;
    URI u = URI.create(e);
    if (u.getHost() == null || u.getPort() <= 0) {
      throw new IllegalArgumentException("endpoint must be host:port, got '" + endpoint + "'");
    }
    return SocketAddress.inetSocketAddress(u.getPort(), u.getHost());
  }

  // ------------------------------------------------------------------------------- operations

  @Override
  public CompletableFuture<GetResult> get(byte[] key) {
    return call(
            "get " + show(key),
            KVGrpcClient.Range,
            RangeRequest.newBuilder().setKey(EtcdProto.bytes(key)).build(),
            Retry.READ,
            false,
            null)
        .thenApply(
            r ->
                new GetResult(
                    r.getKvsCount() == 0 ? null : EtcdProto.kv(r.getKvs(0)),
                    r.getHeader().getRevision()));
  }

  @Override
  public CompletableFuture<RangeResult> range(RangeQuery q) {
    return call(
            "range " + show(q.key()) + ".." + show(q.rangeEnd()),
            KVGrpcClient.Range,
            EtcdProto.range(q),
            Retry.READ,
            false,
            null)
        .thenApply(RemoteKvStore::rangeResult);
  }

  private static RangeResult rangeResult(RangeResponse r) {
    return new RangeResult(
        EtcdProto.kvs(r.getKvsList()), r.getMore(), r.getCount(), r.getHeader().getRevision());
  }

  @Override
  public CompletableFuture<WriteResult> put(byte[] key, byte[] value) {
    return call(
            "put " + show(key),
            KVGrpcClient.Put,
            EtcdProto.put(key, value),
            Retry.UNSAFE,
            true,
            null)
        .thenApply(r -> WriteResult.ok(r.getHeader().getRevision(), null));
  }

  @Override
  public CompletableFuture<WriteResult> create(byte[] key, byte[] value) {
    // Not SAFE: after an unknown outcome a retry could re-create a key that was created by us and
    // deleted by someone else meanwhile (see the decision doc).
    return call(
            "create " + show(key),
            KVGrpcClient.Txn,
            EtcdProto.create(key, value),
            Retry.UNSAFE,
            true,
            null)
        .thenApply(r -> EtcdProto.txnResult(r, WriteResult.Status.ALREADY_EXISTS));
  }

  @Override
  public CompletableFuture<WriteResult> update(byte[] key, byte[] value, long expectedModRevision) {
    requirePositive("update", expectedModRevision);
    AtomicInteger attempts = new AtomicInteger();
    return call(
            "update " + show(key) + " at modRevision " + expectedModRevision,
            KVGrpcClient.Txn,
            EtcdProto.update(key, value, expectedModRevision),
            Retry.SAFE,
            true,
            attempts)
        .thenApply(
            r ->
                resolveRetriedUpdate(
                    EtcdProto.txnResult(r, WriteResult.Status.CONFLICT),
                    value,
                    expectedModRevision,
                    attempts.get()));
  }

  /**
   * A retried update that conflicts with a newer version holding exactly our value: the earlier
   * attempt whose answer was lost most likely applied it. Either way the store now holds what the
   * caller wanted, at a revision after its precondition, so report OK at that revision rather than
   * a spurious conflict.
   */
  static WriteResult resolveRetriedUpdate(
      WriteResult r, byte[] value, long expectedModRevision, int attempts) {
    if (attempts > 1
        && r.status() == WriteResult.Status.CONFLICT
        && r.kv().modRevision() > expectedModRevision
        && java.util.Arrays.equals(r.kv().value(), value)) {
      return WriteResult.ok(r.kv().modRevision(), null);
    }
    return r;
  }

  @Override
  public CompletableFuture<WriteResult> delete(byte[] key, long expectedModRevision) {
    if (expectedModRevision == ANY_REVISION) {
      return call(
              "delete " + show(key),
              KVGrpcClient.DeleteRange,
              EtcdProto.deleteRange(key),
              Retry.UNSAFE,
              true,
              null)
          .thenApply(
              r ->
                  r.getDeleted() == 0
                      ? new WriteResult(
                          WriteResult.Status.NOT_FOUND, r.getHeader().getRevision(), null)
                      : WriteResult.ok(
                          r.getHeader().getRevision(),
                          r.getPrevKvsCount() > 0 ? EtcdProto.kv(r.getPrevKvs(0)) : null));
    }
    requirePositive("delete", expectedModRevision);
    return call(
            "delete " + show(key) + " at modRevision " + expectedModRevision,
            KVGrpcClient.Txn,
            EtcdProto.delete(key, expectedModRevision),
            Retry.SAFE,
            true,
            null)
        .thenApply(r -> EtcdProto.txnResult(r, WriteResult.Status.CONFLICT));
  }

  @Override
  public CompletableFuture<Long> compact(long revision) {
    AtomicInteger attempts = new AtomicInteger();
    return call(
            "compact to " + revision,
            KVGrpcClient.Compact,
            CompactionRequest.newBuilder().setRevision(revision).setPhysical(false).build(),
            Retry.SAFE,
            true,
            attempts)
        .thenApply(r -> r.getHeader().getRevision())
        .exceptionallyCompose(
            err -> {
              KvStoreException e = unwrap(err);
              if (attempts.get() > 1 && e.code() == KvStoreException.Code.COMPACTED) {
                // An earlier attempt (whose answer was lost) did it.
                return currentRevision();
              }
              return CompletableFuture.failedFuture(e);
            });
  }

  @Override
  public CompletableFuture<Long> currentRevision() {
    return call(
            "current revision",
            KVGrpcClient.Range,
            RangeRequest.newBuilder()
                .setKey(EtcdProto.bytes(new byte[] {0}))
                .setCountOnly(true)
                .build(),
            Retry.READ,
            false,
            null)
        .thenApply(r -> r.getHeader().getRevision());
  }

  /**
   * Maintenance.Status at a configured endpoint, Cluster.MemberList, then Maintenance.Status at
   * every other member's first client URL ({@link ClusterStatus}); the compact revision is found
   * with {@link #compactRevision}.
   */
  @Override
  public CompletableFuture<StoreStatus> status() {
    return call(
            "status",
            MaintenanceGrpcClient.Status,
            StatusRequest.getDefaultInstance(),
            Retry.READ,
            false,
            null)
        .thenCompose(
            first ->
                call(
                        "member list",
                        ClusterGrpcClient.MemberList,
                        MemberListRequest.getDefaultInstance(),
                        Retry.READ,
                        false,
                        null)
                    .thenCompose(
                        list ->
                            ClusterStatus.collect(
                                first,
                                list.getMembersList(),
                                url -> ClusterStatus.statusAt(client, tls != null, url))))
        .thenCompose(
            s ->
                compactRevision(s.revision())
                    .thenApply(c -> ClusterStatus.withCompactRevision(s, c)));
  }

  /**
   * The revision the store was compacted at, or 0 if nothing was compacted, {@link
   * StoreStatus#UNKNOWN} if a read fails. etcd's API does not report it, but a read at a revision
   * below it fails with "compacted" and a read at it or later succeeds: a binary search over {@code
   * [1, current]} with count-only reads of one key finds it in about log2(current) round trips. See
   * docs/decisions/0026-store-inspection.md.
   */
  CompletableFuture<Long> compactRevision(long current) {
    if (current <= 1) {
      return CompletableFuture.completedFuture(0L);
    }
    return readableAt(1)
        .thenCompose(ok -> ok ? CompletableFuture.completedFuture(0L) : searchCompacted(1, current))
        .exceptionally(
            err -> {
              log.debug("cannot determine the compact revision: {}", err.toString());
              return StoreStatus.UNKNOWN;
            });
  }

  /** Reads at {@code lo} fail as compacted, reads at {@code hi} succeed. */
  private CompletableFuture<Long> searchCompacted(long lo, long hi) {
    if (hi - lo <= 1) {
      return CompletableFuture.completedFuture(hi);
    }
    long mid = lo + (hi - lo) / 2;
    return readableAt(mid)
        .thenCompose(ok -> ok ? searchCompacted(lo, mid) : searchCompacted(mid, hi));
  }

  private CompletableFuture<Boolean> readableAt(long revision) {
    return call(
            "count at revision " + revision + " (finding the compact revision)",
            KVGrpcClient.Range,
            RangeRequest.newBuilder()
                .setKey(EtcdProto.bytes(new byte[] {0}))
                .setCountOnly(true)
                .setRevision(revision)
                .build(),
            Retry.READ,
            false,
            null)
        .handle(
            (r, err) -> {
              if (err == null) {
                return true;
              }
              KvStoreException e = unwrap(err);
              if (e.code() == KvStoreException.Code.COMPACTED) {
                return false;
              }
              throw e;
            });
  }

  @Override
  public Watch watch(WatchOptions options, WatchListener listener) {
    RemoteWatch w = new RemoteWatch(options, listener);
    watches.add(w);
    context.runOnContext(v -> w.open());
    return w;
  }

  @Override
  public void close() {
    closed = true;
    watches.forEach(RemoteWatch::close);
    client.close();
    if (ownsVertx) {
      vertx.close();
    }
  }

  // ------------------------------------------------------------------------------- transport

  private <Req, Resp> CompletableFuture<Resp> call(
      String what,
      ServiceMethod<Resp, Req> method,
      Req request,
      Retry retry,
      boolean mutating,
      AtomicInteger attempts) {
    CompletableFuture<Resp> result = new CompletableFuture<>();
    RequestIds.Id requestId = mutating ? ids.next() : null;
    if (requestId != null) {
      result.whenComplete((r, err) -> ids.finished(requestId));
    }
    attempt(what, method, request, retry, requestId, 1, attempts, result);
    return result;
  }

  /**
   * Whether the store applies a re-sent request id once. Known from any earlier answer (our store
   * marks every answer with {@link #DEDUPE_HEADER}); otherwise asked with a Maintenance.Status
   * call. Unknown (the store cannot be reached) counts as no.
   */
  private CompletableFuture<Boolean> storeDedupes() {
    Boolean known = storeDedupes.get();
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    return call(
            "status (does the store deduplicate requests?)",
            MaintenanceGrpcClient.Status,
            StatusRequest.getDefaultInstance(),
            Retry.READ,
            false,
            null)
        .handle((r, err) -> Boolean.TRUE.equals(storeDedupes.get()));
  }

  /** Learns from an answer's headers whether the store deduplicates. Mixed answers count as no. */
  private void observe(io.vertx.core.MultiMap headers) {
    if (headers.contains(DEDUPE_HEADER)) {
      storeDedupes.compareAndSet(null, Boolean.TRUE);
    } else {
      storeDedupes.set(Boolean.FALSE);
    }
  }

  private <Req, Resp> void attempt(
      String what,
      ServiceMethod<Resp, Req> method,
      Req request,
      Retry retry,
      RequestIds.Id requestId,
      int n,
      AtomicInteger attempts,
      CompletableFuture<Resp> result) {
    if (closed) {
      result.completeExceptionally(
          new KvStoreException(KvStoreException.Code.CLOSED, what + ": the client is closed"));
      return;
    }
    if (attempts != null) {
      attempts.incrementAndGet();
    }
    int idx = preferred.get();
    SocketAddress ep = endpoints.get(Math.floorMod(idx, endpoints.size()));
    String at =
        what
            + " on "
            + ep
            + (requestId == null ? "" : " (request " + requestId + ")")
            + " attempt "
            + n;
    AtomicBoolean done = new AtomicBoolean();
    java.util.function.Consumer<Failure> failed =
        f -> {
          if (!done.compareAndSet(false, true)) {
            return;
          }
          if (n >= options.maxAttempts() || !f.transientError()) {
            result.completeExceptionally(f.error());
            return;
          }
          Runnable again =
              () -> {
                preferred.compareAndSet(idx, idx + 1);
                log.debug("retrying after {}", f.error().getMessage());
                vertx.setTimer(
                    options.retryBackoff().toMillis() * n,
                    t -> attempt(what, method, request, retry, requestId, n + 1, attempts, result));
              };
          if (retry != Retry.UNSAFE || f.notApplied()) {
            again.run();
          } else if (requestId == null) {
            result.completeExceptionally(f.error());
          } else {
            // An unguarded write that may have been applied: re-send it (same id) only to a
            // store that answers a re-sent id from its request table.
            storeDedupes()
                .whenComplete(
                    (yes, err) -> {
                      if (Boolean.TRUE.equals(yes)) {
                        again.run();
                      } else {
                        result.completeExceptionally(f.error());
                      }
                    });
          }
        };
    client
        .request(ep, method)
        .onComplete(
            (req, err) -> {
              if (err != null) {
                failed.accept(Failure.notSent(at, err));
                return;
              }
              if (requestId != null) {
                req.headers().set(REQUEST_ID_HEADER, requestId.text());
                req.headers().set(DONE_BELOW_HEADER, Long.toString(ids.doneBelow()));
              }
              req.timeout(options.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
              req.send(request)
                  .onComplete(
                      (resp, err2) -> {
                        if (err2 != null) {
                          failed.accept(Failure.lost(at, err2));
                          return;
                        }
                        observe(resp.headers());
                        List<Resp> got = new ArrayList<>(1);
                        resp.handler(got::add);
                        resp.exceptionHandler(e -> failed.accept(Failure.lost(at, e)));
                        resp.endHandler(
                            v -> {
                              GrpcStatus s = resp.status();
                              if (s == GrpcStatus.OK && !got.isEmpty()) {
                                if (done.compareAndSet(false, true)) {
                                  result.complete(got.get(0));
                                }
                              } else if (s == GrpcStatus.OK) {
                                failed.accept(
                                    Failure.status(
                                        at, GrpcStatus.INTERNAL, "OK status without a response"));
                              } else {
                                failed.accept(Failure.status(at, s, resp.statusMessage()));
                              }
                            });
                      });
            });
  }

  static KvStoreException unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException
            || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c instanceof KvStoreException k
        ? k
        : new KvStoreException(KvStoreException.Code.INTERNAL, Failure.describe(c), c);
  }

  static String show(byte[] key) {
    return new String(key, java.nio.charset.StandardCharsets.UTF_8);
  }

  private static void requirePositive(String op, long rev) {
    if (rev <= 0) {
      throw new IllegalArgumentException(
          op + " needs the expected modRevision (> 0) of the value it replaces, got " + rev);
    }
  }

  // ------------------------------------------------------------------------------- watch

  /** One watch on its own gRPC Watch stream; resumes on another endpoint after a failure. */
  private final class RemoteWatch implements Watch {
    private final WatchOptions opts;
    private final WatchListener listener;
    // All fields below are used on `context` only.
    private long nextRevision;
    private boolean finished;
    private volatile boolean cancelled;
    private long failingSince;
    private long lastProgress;
    private GrpcClientRequest<WatchRequest, WatchResponse> stream;

    RemoteWatch(WatchOptions opts, WatchListener listener) {
      this.opts = opts;
      this.listener = listener;
      this.nextRevision = opts.startRevision();
    }

    void open() {
      if (cancelled || finished) {
        return;
      }
      int idx = preferred.get();
      SocketAddress ep = endpoints.get(Math.floorMod(idx, endpoints.size()));
      client
          .request(ep, WatchGrpcClient.Watch)
          .onComplete(
              (req, err) -> {
                if (err != null) {
                  retry(idx, ep, err);
                  return;
                }
                if (cancelled) {
                  req.cancel();
                  return;
                }
                stream = req;
                req.write(
                    WatchRequest.newBuilder()
                        .setCreateRequest(
                            WatchCreateRequest.newBuilder()
                                .setKey(EtcdProto.bytes(opts.key()))
                                .setRangeEnd(EtcdProto.bytes(opts.rangeEnd()))
                                .setStartRevision(nextRevision)
                                .setPrevKv(opts.prevKv()))
                        .build());
                req.response()
                    .onComplete(
                        (resp, err2) -> {
                          if (err2 != null) {
                            retry(idx, ep, err2);
                            return;
                          }
                          resp.handler(this::onResponse);
                          resp.exceptionHandler(e -> retry(idx, ep, e));
                          resp.endHandler(
                              v ->
                                  retry(
                                      idx,
                                      ep,
                                      new IllegalStateException(
                                          "stream ended with "
                                              + resp.status()
                                              + " "
                                              + resp.statusMessage())));
                        });
              });
    }

    private void onResponse(WatchResponse r) {
      if (finished || cancelled) {
        return;
      }
      if (r.getCompactRevision() != 0) {
        end();
        listener.onCompacted(r.getCompactRevision());
        return;
      }
      if (r.getCanceled()) {
        end();
        listener.onError(
            new KvStoreException(
                KvStoreException.Code.INTERNAL,
                "watch on "
                    + show(opts.key())
                    + " cancelled by the store: "
                    + r.getCancelReason()));
        return;
      }
      if (r.getCreated()) {
        failingSince = 0;
        if (nextRevision == 0) {
          nextRevision = r.getHeader().getRevision() + 1;
        }
      }
      if (r.getEventsCount() == 0 && !r.getCreated() && !r.getFragment()) {
        // A progress answer (watch_id -1 from our store, this watch's id from older etcds): each
        // RemoteWatch has a stream of its own, so it can only be about this watch.
        long revision = r.getHeader().getRevision();
        if (revision > lastProgress) {
          lastProgress = revision;
          listener.onProgress(revision);
        }
        return;
      }
      if (r.getEventsCount() > 0) {
        List<WatchEvent> events = new ArrayList<>(r.getEventsCount());
        for (var e : r.getEventsList()) {
          // After a resume, never repeat what was delivered.
          if (e.getKv().getModRevision() >= nextRevision) {
            events.add(EtcdProto.event(e));
          }
        }
        if (!events.isEmpty()) {
          nextRevision = events.get(events.size() - 1).revision() + 1;
          listener.onEvents(events);
        }
      }
    }

    private void retry(int idx, SocketAddress ep, Throwable cause) {
      if (finished || cancelled) {
        return;
      }
      if (stream != null) {
        stream.cancel();
        stream = null;
      }
      long now = System.nanoTime();
      if (failingSince == 0) {
        failingSince = now;
      }
      if (closed || now - failingSince > options.watchRetryFor().toNanos()) {
        end();
        listener.onError(
            new KvStoreException(
                closed ? KvStoreException.Code.CLOSED : KvStoreException.Code.UNAVAILABLE,
                "watch on "
                    + show(opts.key())
                    + " from revision "
                    + nextRevision
                    + " failed on "
                    + ep
                    + ": "
                    + Failure.describe(cause),
                cause));
        return;
      }
      preferred.compareAndSet(idx, idx + 1);
      log.debug("watch on {} failed on {}, resuming at {}", show(opts.key()), ep, nextRevision);
      vertx.setTimer(options.retryBackoff().toMillis(), t -> context.runOnContext(v -> open()));
    }

    private void end() {
      finished = true;
      watches.remove(this);
      if (stream != null) {
        // Once the client is closed its connections close, and the stream with them; a cancel
        // queued behind close() would reach an event loop that is shutting down.
        if (!closed) {
          stream.cancel();
        }
        stream = null;
      }
    }

    @Override
    public void requestProgress() {
      context.runOnContext(
          v -> {
            if (stream != null && !finished && !cancelled) {
              stream.write(
                  WatchRequest.newBuilder()
                      .setProgressRequest(WatchProgressRequest.getDefaultInstance())
                      .build());
            }
          });
    }

    @Override
    public void close() {
      cancelled = true;
      context.runOnContext(v -> end());
    }
  }
}

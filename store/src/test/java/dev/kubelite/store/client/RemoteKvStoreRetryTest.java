package dev.kubelite.store.client;

import static dev.kubelite.store.client.KvStoreContractTest.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.store.api.etcdserverpb.CompactionRequest;
import dev.kubelite.store.api.etcdserverpb.CompactionResponse;
import dev.kubelite.store.api.etcdserverpb.KVGrpcService;
import dev.kubelite.store.api.etcdserverpb.KVService;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.PutResponse;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RangeResponse;
import dev.kubelite.store.api.etcdserverpb.ResponseHeader;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.etcdserverpb.TxnResponse;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.StatusException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The remote client's retry policy against a scripted KV server: which failures are retried for
 * which operation. An unguarded write is never re-sent once it may have reached the store, unless
 * the store marks its answers as deduplicating by request id (our store).
 */
class RemoteKvStoreRetryTest {
  /** What the scripted server does with the next call. */
  enum Act {
    HANG,
    NO_LEADER,
    TIMED_OUT,
    OK
  }

  /** A KV service that follows a script of acts and counts calls per method. */
  static final class ScriptedKv extends KVService {
    final Deque<Act> script = new ArrayDeque<>();
    final AtomicInteger puts = new AtomicInteger();
    final AtomicInteger txns = new AtomicInteger();
    final AtomicInteger ranges = new AtomicInteger();
    final AtomicInteger compacts = new AtomicInteger();
    final AtomicInteger deletes = new AtomicInteger();

    private <T> Future<T> act(T ok) {
      Act a;
      synchronized (script) {
        a = script.isEmpty() ? Act.OK : script.poll();
      }
      return switch (a) {
        case HANG -> Promise.<T>promise().future();
        case NO_LEADER ->
            Future.failedFuture(
                new StatusException(GrpcStatus.UNAVAILABLE, "etcdserver: no leader"));
        case TIMED_OUT ->
            Future.failedFuture(
                new StatusException(GrpcStatus.UNAVAILABLE, "etcdserver: request timed out"));
        case OK -> Future.succeededFuture(ok);
      };
    }

    private static ResponseHeader header() {
      return ResponseHeader.newBuilder().setRevision(7).build();
    }

    @Override
    public Future<PutResponse> put(PutRequest r) {
      puts.incrementAndGet();
      return act(PutResponse.newBuilder().setHeader(header()).build());
    }

    @Override
    public Future<TxnResponse> txn(TxnRequest r) {
      txns.incrementAndGet();
      return act(
          TxnResponse.newBuilder()
              .setHeader(header())
              .setSucceeded(true)
              .addResponses(
                  dev.kubelite.store.api.etcdserverpb.ResponseOp.newBuilder()
                      .setResponsePut(PutResponse.newBuilder().setHeader(header())))
              .build());
    }

    @Override
    public Future<dev.kubelite.store.api.etcdserverpb.DeleteRangeResponse> deleteRange(
        dev.kubelite.store.api.etcdserverpb.DeleteRangeRequest r) {
      deletes.incrementAndGet();
      return act(
          dev.kubelite.store.api.etcdserverpb.DeleteRangeResponse.newBuilder()
              .setHeader(header())
              .build());
    }

    @Override
    public Future<RangeResponse> range(RangeRequest r) {
      ranges.incrementAndGet();
      return act(RangeResponse.newBuilder().setHeader(header()).build());
    }

    @Override
    public Future<CompactionResponse> compact(CompactionRequest r) {
      compacts.incrementAndGet();
      return act(CompactionResponse.newBuilder().setHeader(header()).build());
    }

    void script(Act... acts) {
      synchronized (script) {
        script.clear();
        script.addAll(List.of(acts));
      }
    }
  }

  private Vertx vertx;
  private ScriptedKv kv;
  private RemoteKvStore store;

  /** Whether the scripted server marks its answers as our store does (it deduplicates). */
  private volatile boolean dedupe;

  /** Per request: path, request id header, done-below header. */
  private final List<String[]> requests = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    kv = new ScriptedKv();
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.addService(KVGrpcService.of(kv));
    HttpServer http =
        vertx
            .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
            .requestHandler(
                req -> {
                  requests.add(
                      new String[] {
                        req.path(),
                        req.getHeader(RemoteKvStore.REQUEST_ID_HEADER),
                        req.getHeader(RemoteKvStore.DONE_BELOW_HEADER)
                      });
                  if (dedupe) {
                    req.response().headers().set(RemoteKvStore.DEDUPE_HEADER, "1");
                  }
                  grpc.handle(req);
                })
            .listen()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    store =
        RemoteKvStore.connect(
            vertx,
            List.of("127.0.0.1:" + http.actualPort()),
            new RemoteKvStore.Options(
                Duration.ofMillis(300), 3, Duration.ofMillis(10), Duration.ofSeconds(5)));
  }

  @AfterEach
  void stop() throws Exception {
    store.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static void assertFailsWith(Runnable call, KvStoreException.Code code) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(KvStoreException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  private static <T> T join(java.util.concurrent.CompletableFuture<T> f) throws Exception {
    return KvStoreContractTest.join(f);
  }

  private static Runnable run(java.util.concurrent.Callable<?> c) {
    return () -> {
      try {
        c.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  @Test
  void putIsNotResentAfterItsAnswerWasLost() {
    kv.script(Act.HANG, Act.OK);
    assertFailsWith(
        run(() -> join(store.put(utf8("/k"), utf8("v")))), KvStoreException.Code.UNKNOWN_OUTCOME);
    assertThat(kv.puts.get()).isEqualTo(1);
  }

  @Test
  void putIsNotResentAfterAStoreTimeout() {
    kv.script(Act.TIMED_OUT, Act.OK);
    assertFailsWith(
        run(() -> join(store.put(utf8("/k"), utf8("v")))), KvStoreException.Code.UNKNOWN_OUTCOME);
    assertThat(kv.puts.get()).isEqualTo(1);
  }

  @Test
  void putIsRetriedWhenTheStoreRejectedItUnprocessed() throws Exception {
    kv.script(Act.NO_LEADER, Act.NO_LEADER, Act.OK);
    assertThat(join(store.put(utf8("/k"), utf8("v"))).revision()).isEqualTo(7);
    assertThat(kv.puts.get()).isEqualTo(3);
  }

  @Test
  void createAndUnconditionalDeleteAreNotResentAfterALostAnswer() {
    kv.script(Act.HANG, Act.OK);
    assertFailsWith(
        run(() -> join(store.create(utf8("/k"), utf8("v")))),
        KvStoreException.Code.UNKNOWN_OUTCOME);
    assertThat(kv.txns.get()).isEqualTo(1);
  }

  @Test
  void guardedUpdateIsResentAfterALostAnswer() throws Exception {
    kv.script(Act.HANG, Act.TIMED_OUT, Act.OK);
    assertThat(join(store.update(utf8("/k"), utf8("v"), 5)).ok()).isTrue();
    assertThat(kv.txns.get()).isEqualTo(3);
  }

  @Test
  void retriedUpdateThatFindsItsOwnValueReportsSuccess() {
    WriteResult conflictWithOurs =
        new WriteResult(WriteResult.Status.CONFLICT, 9, new Kv(utf8("/k"), utf8("v"), 2, 9, 3, 0));
    assertThat(RemoteKvStore.resolveRetriedUpdate(conflictWithOurs, utf8("v"), 5, 2))
        .isEqualTo(new WriteResult(WriteResult.Status.OK, 9, null));
    // On the first attempt a conflict is a conflict, and another value is always a conflict.
    assertThat(RemoteKvStore.resolveRetriedUpdate(conflictWithOurs, utf8("v"), 5, 1))
        .isEqualTo(conflictWithOurs);
    assertThat(RemoteKvStore.resolveRetriedUpdate(conflictWithOurs, utf8("w"), 5, 2))
        .isEqualTo(conflictWithOurs);
  }

  @Test
  void guardedUpdateGivesUpAfterMaxAttempts() {
    kv.script(Act.HANG, Act.HANG, Act.HANG, Act.OK);
    assertFailsWith(
        run(() -> join(store.update(utf8("/k"), utf8("v"), 5))),
        KvStoreException.Code.UNKNOWN_OUTCOME);
    assertThat(kv.txns.get()).isEqualTo(3);
  }

  @Test
  void readsAndCompactionAreRetried() throws Exception {
    kv.script(Act.HANG, Act.TIMED_OUT, Act.OK);
    assertThat(join(store.get(utf8("/k"))).revision()).isEqualTo(7);
    assertThat(kv.ranges.get()).isEqualTo(3);
    kv.script(Act.HANG, Act.OK);
    assertThat(join(store.compact(3))).isEqualTo(7);
    assertThat(kv.compacts.get()).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------- dedupe

  private List<String[]> writes() {
    return requests.stream().filter(r -> !r[0].endsWith("/Range") && r[1] != null).toList();
  }

  @Test
  void unguardedWritesAreResentWithTheSameIdToAStoreThatDedupes() throws Exception {
    dedupe = true;
    join(store.currentRevision()); // an answer that says "dedupe"

    kv.script(Act.HANG, Act.TIMED_OUT, Act.OK);
    assertThat(join(store.put(utf8("/k"), utf8("v"))).revision()).isEqualTo(7);
    assertThat(kv.puts.get()).isEqualTo(3);
    kv.script(Act.HANG, Act.OK);
    assertThat(join(store.create(utf8("/k"), utf8("v"))).ok()).isTrue();
    kv.script(Act.TIMED_OUT, Act.OK);
    assertThat(join(store.delete(utf8("/k"), KvStore.ANY_REVISION)).status())
        .isEqualTo(WriteResult.Status.NOT_FOUND);
    assertThat(kv.txns.get()).isEqualTo(2);
    assertThat(kv.deletes.get()).isEqualTo(2);

    List<String[]> writes = writes();
    assertThat(writes).hasSize(7);
    // Every attempt of one call carries the call's id; each call has its own.
    assertThat(writes.subList(0, 3)).extracting(w -> w[1]).containsOnly(writes.get(0)[1]);
    assertThat(writes.subList(3, 5)).extracting(w -> w[1]).containsOnly(writes.get(3)[1]);
    assertThat(writes.subList(5, 7)).extracting(w -> w[1]).containsOnly(writes.get(5)[1]);
    assertThat(writes.stream().map(w -> w[1]).distinct()).hasSize(3);
    // done-below: the earlier calls have finished, so it names the call itself.
    for (String[] w : writes) {
      assertThat(w[2]).isEqualTo(w[1].substring(w[1].indexOf('-') + 1));
    }
  }

  @Test
  void aClientThatHasNotHeardFromTheStoreAsksWhetherItDedupes() throws Exception {
    dedupe = true;
    kv.script(Act.HANG, Act.OK);
    assertThat(join(store.put(utf8("/k"), utf8("v"))).revision()).isEqualTo(7);
    assertThat(kv.puts.get()).isEqualTo(2);
    assertThat(requests).extracting(r -> r[0]).contains("/etcdserverpb.Maintenance/Status");
  }

  @Test
  void aStoreThatAnswersWithoutTheMarkIsTreatedAsEtcd() throws Exception {
    join(store.currentRevision());
    kv.script(Act.HANG, Act.OK);
    assertFailsWith(
        run(() -> join(store.put(utf8("/k"), utf8("v")))), KvStoreException.Code.UNKNOWN_OUTCOME);
    assertThat(kv.puts.get()).isEqualTo(1);
    assertThat(requests).extracting(r -> r[0]).doesNotContain("/etcdserverpb.Maintenance/Status");
  }
}

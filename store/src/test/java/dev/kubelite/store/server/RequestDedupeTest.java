package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.LeaseGrantRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseGrpcClient;
import dev.kubelite.store.api.etcdserverpb.LeaseRevokeRequest;
import dev.kubelite.store.api.etcdserverpb.LeaseRevokeResponse;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.PutResponse;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.client.WatchEvent;
import dev.kubelite.store.client.WatchListener;
import dev.kubelite.store.client.WatchOptions;
import dev.kubelite.store.client.WriteResult;
import dev.kubelite.store.mvcc.Range;
import dev.kubelite.store.raft.driver.RaftDriver;
import dev.kubelite.store.testing.AnswerDroppingProxy;
import dev.kubelite.store.testing.LocalCluster;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server-side deduplication of retried writes (decision 0012) on real members: a write whose answer
 * is lost is re-sent with the same request id and applied once — across members, after a restart
 * and after a snapshot install.
 */
class RequestDedupeTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final RaftDriver.Options SMALL_SNAPSHOTS =
      new RaftDriver.Options(Duration.ofMillis(50), 20, 5);

  @TempDir Path dir;

  private LocalCluster cluster;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Vertx vertx;
  private GrpcClient grpc;

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private void startCluster(int size, RaftDriver.Options options) throws Exception {
    cluster = LocalCluster.of(dir, "dedupe-test", size).options(options).start();
    cluster.awaitLeader();
    cluster.awaitAllPublished();
  }

  private String endpoint(int i) {
    return cluster.endpoint(i);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static long revision(StoreMember m) throws Exception {
    return m.withMvcc(s -> s.currentRevision());
  }

  private static long modRevision(StoreMember m, String key) throws Exception {
    var kvs = m.withMvcc(s -> s.range(Range.key(utf8(key)))).kvs();
    return kvs.isEmpty() ? 0 : kvs.get(0).modRevision();
  }

  private KvStore remote(List<String> endpoints, Duration timeout) {
    RemoteKvStore s =
        RemoteKvStore.connect(
            vertx(),
            endpoints,
            new RemoteKvStore.Options(timeout, 5, Duration.ofMillis(50), Duration.ofSeconds(30)));
    closeables.add(s);
    return s;
  }

  private Vertx vertx() {
    if (vertx == null) {
      vertx = Vertx.vertx();
    }
    return vertx;
  }

  /** Collects the events of one key; a later write to {@code sentinel} marks the end. */
  private static final class Events implements WatchListener {
    final List<WatchEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void onEvents(List<WatchEvent> batch) {
      events.addAll(batch);
    }

    @Override
    public void onCompacted(long compactRevision) {
      events.clear();
    }

    @Override
    public void onError(dev.kubelite.store.client.KvStoreException error) {
      throw new AssertionError("watch failed", error);
    }

    List<String> keys() {
      return events.stream().map(e -> new String(e.kv().key(), StandardCharsets.UTF_8)).toList();
    }
  }

  private static <T> T join(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void aPutWhoseAnswerTheLeaderLostIsAppliedOnceWhenResentToAFollower() throws Exception {
    startCluster(3, RaftDriver.Options.defaults());
    int leader = cluster.leader();
    int follower = (leader + 1) % 3;
    int watcher = (leader + 2) % 3;
    AnswerDroppingProxy proxy = AnswerDroppingProxy.start(cluster.clientPort(leader));
    closeables.add(proxy);
    KvStore client =
        remote(List.of("127.0.0.1:" + proxy.port(), endpoint(follower)), Duration.ofSeconds(20));
    KvStore observer = remote(List.of(endpoint(watcher)), Duration.ofSeconds(10));
    long start = join(client.currentRevision()); // connects, and learns that the store dedupes
    Events events = new Events();
    observer.watch(new WatchOptions(utf8("/d/"), utf8("/d0"), start + 1, false), events);

    proxy.holdAnswers();
    CompletableFuture<WriteResult> put = client.put(utf8("/d/k"), utf8("v"));
    StoreMember lead = cluster.member(leader);
    await().atMost(WAIT).until(() -> modRevision(lead, "/d/k") > 0);
    long appliedAt = modRevision(lead, "/d/k");
    await().atMost(WAIT).until(() -> proxy.heldBytes() > 0);
    assertThat(put).isNotDone();
    proxy.dropHeldAnswers();

    WriteResult result = join(put);
    assertThat(result.status()).isEqualTo(WriteResult.Status.OK);
    assertThat(result.revision()).isEqualTo(appliedAt);
    for (StoreServer s : cluster.running()) {
      await().atMost(WAIT).until(() -> revision(s.member()) == appliedAt);
    }

    join(observer.put(utf8("/d/sentinel"), utf8("end")));
    await().atMost(WAIT).until(() -> events.keys().contains("/d/sentinel"));
    assertThat(events.keys()).containsExactly("/d/k", "/d/sentinel");
    for (StoreServer s : cluster.running()) {
      assertThat(revision(s.member())).isEqualTo(appliedAt + 1);
    }
  }

  @Test
  void theEmbeddedClientResendsAWriteWhoseAnswerWasLost() throws Exception {
    startCluster(1, RaftDriver.Options.defaults());
    StoreMember m = cluster.member(0);
    try (EmbeddedKvStore client = EmbeddedKvStore.of(cluster.server(0))) {
      long before = join(client.currentRevision());
      m.loseNextAnswers(1);
      WriteResult created = join(client.create(utf8("/e/k"), utf8("v")));
      // The first attempt created the key; its retry got the recorded answer, not ALREADY_EXISTS.
      assertThat(created.status()).isEqualTo(WriteResult.Status.OK);
      assertThat(created.revision()).isEqualTo(before + 1);
      assertThat(revision(m)).isEqualTo(before + 1);

      m.loseNextAnswers(1);
      WriteResult deleted = join(client.delete(utf8("/e/k"), KvStore.ANY_REVISION));
      assertThat(deleted.status()).isEqualTo(WriteResult.Status.OK);
      assertThat(deleted.kv().valueUtf8()).isEqualTo("v");
      assertThat(revision(m)).isEqualTo(before + 2);
    }
  }

  // ------------------------------------------------------------------------------- raw gRPC

  private GrpcClient grpc() {
    if (grpc == null) {
      grpc =
          GrpcClient.client(
              vertx(),
              new GrpcClientOptions(),
              new HttpClientOptions()
                  .setProtocolVersion(HttpVersion.HTTP_2)
                  .setHttp2ClearTextUpgrade(false));
    }
    return grpc;
  }

  /** An answer: the response or the status and message, and whether it said "dedupe". */
  private record Answer<T>(T response, GrpcStatus status, String message, boolean dedupe) {}

  /** A unary call over gRPC with the given request-id header (null: none). */
  private <Req, Resp> Answer<Resp> call(
      int member,
      io.vertx.grpc.common.ServiceMethod<Resp, Req> method,
      Req request,
      String requestId)
      throws Exception {
    Promise<Answer<Resp>> answer = Promise.promise();
    vertx()
        .runOnContext(
            v ->
                grpc()
                    .request(
                        SocketAddress.inetSocketAddress(cluster.clientPort(member), "127.0.0.1"),
                        method)
                    .compose(
                        req -> {
                          if (requestId != null) {
                            req.headers().set(ClientRequestIds.HEADER, requestId);
                          }
                          return req.send(request);
                        })
                    .onFailure(answer::tryFail)
                    .onSuccess(
                        resp -> {
                          List<Resp> got = new ArrayList<>();
                          MultiMap headers = resp.headers();
                          resp.handler(got::add);
                          resp.exceptionHandler(answer::tryFail);
                          resp.endHandler(
                              x ->
                                  answer.tryComplete(
                                      new Answer<>(
                                          got.isEmpty() ? null : got.get(0),
                                          resp.status(),
                                          resp.statusMessage(),
                                          headers.contains(ClientRequestIds.DEDUPE_HEADER))));
                        }));
    return answer.future().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private Answer<PutResponse> put(int member, String requestId, String key, String value)
      throws Exception {
    return call(
        member,
        KVGrpcClient.Put,
        PutRequest.newBuilder()
            .setKey(ByteString.copyFromUtf8(key))
            .setValue(ByteString.copyFromUtf8(value))
            .build(),
        requestId);
  }

  private static <T> T ok(Answer<T> a) {
    assertThat(a.status()).as("%s %s", a.status(), a.message()).isEqualTo(GrpcStatus.OK);
    return a.response();
  }

  private Answer<PutResponse> putOk(int member, String requestId, String key, String value)
      throws Exception {
    Answer<PutResponse> a = put(member, requestId, key, value);
    ok(a);
    return a;
  }

  @Test
  void sameIdIsAppliedOnceAndSameIdWithAnotherRequestIsRefused() throws Exception {
    startCluster(1, RaftDriver.Options.defaults());
    StoreMember m = cluster.member(0);
    await().atMost(WAIT).ignoreExceptions().until(() -> putOk(0, null, "/w", "up").dedupe());

    Answer<PutResponse> first = putOk(0, "00000000000000a1-7", "/r/k", "v");
    long revision = first.response().getHeader().getRevision();
    Answer<PutResponse> again = putOk(0, "00000000000000a1-7", "/r/k", "v");
    assertThat(again.response().getHeader().getRevision()).isEqualTo(revision);
    assertThat(revision(m)).isEqualTo(revision);

    Answer<PutResponse> other = put(0, "00000000000000a1-7", "/r/k", "different");
    assertThat(other.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(other.message())
        .isEqualTo(
            "kubelite: request id 00000000000000a1-7 was already used for a different request;"
                + " use a new id for a new request");
    assertThat(other.dedupe()).isTrue();
    assertThat(revision(m)).isEqualTo(revision);

    // Without an id (etcdctl, etcd clients) a repeated put is applied again, as etcd does; an id
    // that does not parse counts as none.
    putOk(0, null, "/r/k", "v");
    putOk(0, "not-an-id", "/r/k", "v");
    assertThat(revision(m)).isEqualTo(revision + 2);
  }

  @Test
  void theTableSurvivesARestart() throws Exception {
    startCluster(1, RaftDriver.Options.defaults());
    await().atMost(WAIT).ignoreExceptions().until(() -> putOk(0, null, "/w", "up").dedupe());
    long revision = putOk(0, "b2-1", "/restart/k", "v").response().getHeader().getRevision();

    cluster.restart(0);

    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () ->
                putOk(0, "b2-1", "/restart/k", "v").response().getHeader().getRevision()
                    == revision);
    assertThat(revision(cluster.member(0))).isEqualTo(revision);
  }

  @Test
  void aMemberThatInstalledASnapshotAnswersFromTheSameTable() throws Exception {
    startCluster(3, SMALL_SNAPSHOTS);
    int leader = cluster.leader();
    int victim = (leader + 1) % 3;
    StoreMember lead = cluster.member(leader);
    await().atMost(WAIT).until(() -> revision(cluster.member(victim)) == revision(lead));
    cluster.stop(victim);

    long revision = putOk(leader, "c3-1", "/snap/k", "v").response().getHeader().getRevision();
    for (int i = 0; i < 100; i++) {
      putOk(leader, "c3-" + (i + 2), "/snap/k" + i, "v");
    }

    cluster.start(victim);
    StoreMember restarted = cluster.member(victim);
    long expected = revision(lead);
    await().atMost(WAIT).until(() -> revision(restarted) == expected);
    assertThat(restarted.imagesInstalled()).isGreaterThanOrEqualTo(1);

    // The retry reaches the member that knows the table only from the leader's state image.
    Answer<PutResponse> again = putOk(victim, "c3-1", "/snap/k", "v");
    assertThat(again.response().getHeader().getRevision()).isEqualTo(revision);
    for (StoreServer s : cluster.running()) {
      assertThat(revision(s.member())).isEqualTo(expected);
      assertThat(s.member().mvcc().clientRequests(0xc3L).getValue()).hasSize(101);
    }
  }

  @Test
  void aRetriedLeaseGrantGetsTheSameLeaseAndARetriedRevokeItsFirstAnswer() throws Exception {
    startCluster(1, RaftDriver.Options.defaults());
    await().atMost(WAIT).ignoreExceptions().until(() -> putOk(0, null, "/w", "up").dedupe());
    LeaseGrantRequest grant = LeaseGrantRequest.newBuilder().setTTL(60).build();

    long lease = ok(call(0, LeaseGrpcClient.LeaseGrant, grant, "d4-1")).getID();
    // The retry gets another server-chosen id proposed, but is answered from the table.
    assertThat(ok(call(0, LeaseGrpcClient.LeaseGrant, grant, "d4-1")).getID()).isEqualTo(lease);
    assertThat(cluster.member(0).mvcc().leases()).containsOnlyKeys(lease);
    // Without an id, a second grant is a second lease (etcd).
    long other = ok(call(0, LeaseGrpcClient.LeaseGrant, grant, null)).getID();
    assertThat(cluster.member(0).mvcc().leases()).containsOnlyKeys(lease, other);

    LeaseRevokeRequest revoke = LeaseRevokeRequest.newBuilder().setID(lease).build();
    ok(call(0, LeaseGrpcClient.LeaseRevoke, revoke, "d4-2"));
    ok(call(0, LeaseGrpcClient.LeaseRevoke, revoke, "d4-2"));
    Answer<LeaseRevokeResponse> plain = call(0, LeaseGrpcClient.LeaseRevoke, revoke, null);
    assertThat(plain.status()).isEqualTo(GrpcStatus.NOT_FOUND);
    assertThat(plain.message()).isEqualTo("etcdserver: requested lease not found");
  }
}

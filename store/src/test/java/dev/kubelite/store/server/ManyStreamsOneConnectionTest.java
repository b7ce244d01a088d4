package dev.kubelite.store.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.PutResponse;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchGrpcClient;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.raft.Role;
import dev.kubelite.store.testing.FreePorts;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every watch holds an HTTP/2 stream for its lifetime. A client with more open watches than
 * Vert.x's default stream limit (100) on one connection must still get its requests answered on
 * that connection, as with etcd (the bench's watch fan-out once hung forever here).
 */
class ManyStreamsOneConnectionTest {
  private static final int WATCHES = 150;

  @TempDir Path dir;

  private StoreServer server;
  private Vertx vertx;
  private GrpcClient grpc;

  @AfterEach
  void stop() {
    if (grpc != null) {
      grpc.close();
    }
    if (vertx != null) {
      vertx.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void requestsAreAnsweredWhileManyWatchesHoldStreams() throws Exception {
    int clientPort = FreePorts.next();
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + FreePorts.next();
    server =
        StoreServer.start(
            MemberConfig.fromFlags(
                "m1", dir.resolve("m1").toString(), client, client, peer, peer, null, null, "t1"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> server.member().raftStatus().role() == Role.LEADER);
    vertx = Vertx.vertx();
    grpc = GrpcClient.client(vertx);
    SocketAddress address = SocketAddress.inetSocketAddress(clientPort, "127.0.0.1");
    WatchGrpcClient watch = WatchGrpcClient.create(grpc, address);
    KVGrpcClient kv = KVGrpcClient.create(grpc, address);

    AtomicInteger eventsSeen = new AtomicInteger();
    List<CompletableFuture<Void>> created = new ArrayList<>();
    for (int i = 0; i < WATCHES; i++) {
      CompletableFuture<Void> ready = new CompletableFuture<>();
      created.add(ready);
      vertx.runOnContext(
          v ->
              watch
                  .watch(
                      (requests, failure) -> {
                        if (failure != null) {
                          ready.completeExceptionally(failure);
                          return;
                        }
                        requests.write(
                            WatchRequest.newBuilder()
                                .setCreateRequest(
                                    WatchCreateRequest.newBuilder()
                                        .setKey(ByteString.copyFromUtf8("/w")))
                                .build());
                      })
                  .onSuccess(
                      responses ->
                          responses.handler(
                              r -> {
                                if (r.getCreated()) {
                                  ready.complete(null);
                                }
                                eventsSeen.addAndGet(r.getEventsCount());
                              }))
                  .onFailure(ready::completeExceptionally));
    }
    CompletableFuture.allOf(created.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    PutResponse put =
        kv.put(
                PutRequest.newBuilder()
                    .setKey(ByteString.copyFromUtf8("/w"))
                    .setValue(ByteString.copyFromUtf8("v"))
                    .build())
            .toCompletionStage()
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS);

    assertThat(put.getHeader().getRevision()).isEqualTo(2);
    await().atMost(Duration.ofSeconds(10)).until(() -> eventsSeen.get() == WATCHES);
  }
}

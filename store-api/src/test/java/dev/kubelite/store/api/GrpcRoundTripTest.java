package dev.kubelite.store.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.KVGrpcService;
import dev.kubelite.store.api.etcdserverpb.KVService;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RangeResponse;
import dev.kubelite.store.api.etcdserverpb.ResponseHeader;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchGrpcClient;
import dev.kubelite.store.api.etcdserverpb.WatchGrpcService;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import dev.kubelite.store.api.etcdserverpb.WatchService;
import dev.kubelite.store.api.mvccpb.KeyValue;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.server.GrpcServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generated Vert.x server and client stubs talk real gRPC (HTTP/2 cleartext) over loopback: a
 * unary call (KV.Range) and a bidirectional stream (Watch.Watch).
 */
class GrpcRoundTripTest {

  private static final long TIMEOUT_SECONDS = 10;
  private static final long REVISION = 42;

  private Vertx vertx;
  private GrpcClient client;
  private SocketAddress server;

  /** Answers a range with one key-value whose key and value are the requested key. */
  static final class EchoKv extends KVService {
    @Override
    public Future<RangeResponse> range(RangeRequest request) {
      KeyValue kv =
          KeyValue.newBuilder()
              .setKey(request.getKey())
              .setValue(request.getKey())
              .setModRevision(REVISION)
              .build();
      return Future.succeededFuture(
          RangeResponse.newBuilder()
              .setHeader(ResponseHeader.newBuilder().setRevision(REVISION))
              .addKvs(kv)
              .setCount(1)
              .build());
    }
  }

  /**
   * Confirms each create request with created=true and a watch id: the requested one, or the next
   * free one from 1 up. Ends its side of the stream when the client ends its side.
   */
  static final class CreatingWatch extends WatchService {
    @Override
    protected void watch(ReadStream<WatchRequest> requests, WriteStream<WatchResponse> responses) {
      long[] nextId = {1};
      requests.handler(
          request -> {
            if (request.hasCreateRequest()) {
              long requested = request.getCreateRequest().getWatchId();
              long id = requested != 0 ? requested : nextId[0]++;
              responses.write(
                  WatchResponse.newBuilder()
                      .setHeader(ResponseHeader.newBuilder().setRevision(REVISION))
                      .setWatchId(id)
                      .setCreated(true)
                      .build());
            }
          });
      requests.endHandler(done -> responses.end());
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.addService(KVGrpcService.of(new EchoKv()));
    grpc.addService(WatchGrpcService.of(new CreatingWatch()));
    HttpServer http =
        await(
            vertx
                .createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(grpc)
                .listen());
    server = SocketAddress.inetSocketAddress(http.actualPort(), "127.0.0.1");
    client = GrpcClient.client(vertx);
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      await(client.close());
    }
    await(vertx.close());
  }

  @Test
  void unaryRangeEchoesTheKey() throws Exception {
    KVGrpcClient kv = KVGrpcClient.create(client, server);

    RangeResponse response =
        await(kv.range(RangeRequest.newBuilder().setKey(ByteString.copyFromUtf8("foo")).build()));

    assertThat(response.getHeader().getRevision()).isEqualTo(REVISION);
    assertThat(response.getCount()).isEqualTo(1);
    assertThat(response.getKvsList()).hasSize(1);
    assertThat(response.getKvs(0).getKey().toStringUtf8()).isEqualTo("foo");
    assertThat(response.getKvs(0).getValue().toStringUtf8()).isEqualTo("foo");
    assertThat(response.getKvs(0).getModRevision()).isEqualTo(REVISION);
  }

  @Test
  void bidirectionalWatchConfirmsCreatesThenEnds() throws Exception {
    WatchGrpcClient watch = WatchGrpcClient.create(client, server);
    WatchRequest first =
        WatchRequest.newBuilder()
            .setCreateRequest(WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("a")))
            .build();
    WatchRequest second =
        WatchRequest.newBuilder()
            .setCreateRequest(
                WatchCreateRequest.newBuilder().setKey(ByteString.copyFromUtf8("b")).setWatchId(7))
            .build();
    List<WatchResponse> received = new ArrayList<>();
    CompletableFuture<List<WatchResponse>> finished = new CompletableFuture<>();

    // Everything runs on one Vert.x context, so the response handlers are in place before any
    // response can arrive.
    vertx.runOnContext(
        ignored -> {
          List<WriteStream<WatchRequest>> requestStream = new ArrayList<>(1);
          watch
              .watch(
                  (requests, failure) -> {
                    if (failure != null) {
                      finished.completeExceptionally(failure);
                      return;
                    }
                    requestStream.add(requests);
                    requests.write(first);
                    requests.write(second);
                  })
              .onSuccess(
                  responses -> {
                    responses.handler(
                        response -> {
                          received.add(response);
                          if (received.size() == 2) {
                            requestStream.get(0).end();
                          }
                        });
                    responses.exceptionHandler(finished::completeExceptionally);
                    responses.endHandler(done -> finished.complete(List.copyOf(received)));
                  })
              .onFailure(finished::completeExceptionally);
        });

    List<WatchResponse> responses = finished.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

    assertThat(responses).hasSize(2);
    assertThat(responses).allSatisfy(response -> assertThat(response.getCreated()).isTrue());
    assertThat(responses)
        .allSatisfy(response -> assertThat(response.getHeader().getRevision()).isEqualTo(REVISION));
    assertThat(responses).extracting(WatchResponse::getWatchId).containsExactly(1L, 7L);
  }
}

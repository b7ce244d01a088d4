package dev.kubelite.store.testing;

import dev.kubelite.store.api.etcdserverpb.WatchGrpcClient;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import dev.kubelite.store.api.etcdserverpb.WatchResponse;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import io.vertx.grpc.client.GrpcClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One raw etcd Watch stream over gRPC (Vert.x client), for tests that look at individual responses:
 * every response is recorded in arrival order; requests are written in call order. Reading can be
 * paused, which (through HTTP/2 flow control) makes the server see a slow client.
 */
public final class WatchStreamClient implements AutoCloseable {
  private final Context context;
  private final WriteStream<WatchRequest> requests;
  private final List<WatchResponse> received = new ArrayList<>();
  private ReadStream<WatchResponse> responses; // on the context, once the server answered
  private boolean paused; // on the context
  private volatile String failure;

  private WatchStreamClient(Context context, WriteStream<WatchRequest> requests) {
    this.context = context;
    this.requests = requests;
  }

  /** Opens a stream to the Watch service on 127.0.0.1:{@code port}. */
  public static WatchStreamClient open(Vertx vertx, GrpcClient grpc, int port) throws Exception {
    WatchGrpcClient client =
        WatchGrpcClient.create(grpc, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
    Context context = vertx.getOrCreateContext();
    CompletableFuture<WatchStreamClient> opened = new CompletableFuture<>();
    // The response stream appears once the server sends its first response; its handler is set
    // on the context, before any response can be delivered.
    context.runOnContext(
        v -> {
          WatchStreamClient[] self = new WatchStreamClient[1];
          client
              .watch(
                  (req, err) -> {
                    if (err != null) {
                      opened.completeExceptionally(err);
                    } else {
                      self[0] = new WatchStreamClient(context, req);
                      opened.complete(self[0]);
                    }
                  })
              .onSuccess(resp -> self[0].attach(resp))
              .onFailure(
                  e -> {
                    if (self[0] != null) {
                      self[0].failure = "stream failed: " + e;
                    }
                    opened.completeExceptionally(e);
                  });
        });
    return opened.get(10, TimeUnit.SECONDS);
  }

  private void attach(ReadStream<WatchResponse> resp) {
    responses = resp;
    resp.handler(this::record)
        .exceptionHandler(e -> failure = "stream failed: " + e)
        .endHandler(x -> failure = "stream ended by the server");
    if (paused) {
      resp.pause();
    }
  }

  private synchronized void record(WatchResponse r) {
    received.add(r);
  }

  /** Writes a request on the stream. */
  public void send(WatchRequest request) {
    context.runOnContext(v -> requests.write(request));
  }

  /** Everything received so far, in order. */
  public synchronized List<WatchResponse> received() {
    return List.copyOf(received);
  }

  /** Responses for one watch id, in order. */
  public synchronized List<WatchResponse> receivedFor(long watchId) {
    return received.stream().filter(r -> r.getWatchId() == watchId).toList();
  }

  /** Why the stream stopped, or null while it is open. */
  public String failure() {
    return failure;
  }

  /** Stops reading responses; the server's writes back up once flow-control windows are full. */
  public void pause() throws Exception {
    setPaused(true);
  }

  public void resume() throws Exception {
    setPaused(false);
  }

  private void setPaused(boolean pause) throws Exception {
    onContext(
        () -> {
          paused = pause;
          if (responses != null && pause) {
            responses.pause();
          } else if (responses != null) {
            responses.resume();
          }
        });
  }

  private void onContext(Runnable r) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    context.runOnContext(
        v -> {
          r.run();
          done.complete(null);
        });
    done.get(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    context.runOnContext(v -> requests.end());
  }
}

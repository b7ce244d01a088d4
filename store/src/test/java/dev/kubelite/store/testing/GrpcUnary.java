package dev.kubelite.store.testing;

import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One unary gRPC call whose outcome keeps the status message, which the generated clients drop
 * (their failure says only the code): what tests compare with etcd's exact errors.
 */
public final class GrpcUnary {
  private GrpcUnary() {}

  /** The status, its message (empty when OK) and the response (null unless OK). */
  public record Outcome<T>(GrpcStatus status, String message, T response) {
    /** {@code "OK"} or {@code "CODE: message"}. */
    public String error() {
      return status == GrpcStatus.OK ? "OK" : status.name() + ": " + message;
    }
  }

  public static <Req, Resp> Outcome<Resp> call(
      GrpcClient client, int port, ServiceMethod<Resp, Req> method, Req request) throws Exception {
    CompletableFuture<Outcome<Resp>> out = new CompletableFuture<>();
    // Handlers are set on the event loop as the response arrives, so none of it is missed.
    client
        .request(SocketAddress.inetSocketAddress(port, "127.0.0.1"), method)
        .compose(
            req -> {
              req.end(request);
              return req.response()
                  .onSuccess(
                      resp -> {
                        Object[] last = {null};
                        resp.handler(m -> last[0] = m);
                        resp.exceptionHandler(out::completeExceptionally);
                        resp.endHandler(
                            v -> {
                              @SuppressWarnings("unchecked")
                              Resp r = (Resp) last[0];
                              String message = resp.statusMessage();
                              out.complete(
                                  new Outcome<>(resp.status(), message == null ? "" : message, r));
                            });
                      });
            })
        .onFailure(out::completeExceptionally);
    return out.get(20, TimeUnit.SECONDS);
  }
}

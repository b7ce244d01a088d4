package dev.kubelite.store.server;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Bridges the member's futures (completed on its own threads) to the gRPC request's context. */
final class Grpc {
  private static final Logger log = LoggerFactory.getLogger(Grpc.class);

  private Grpc() {}

  static <T> Future<T> future(CompletableFuture<T> cf) {
    Context ctx = Vertx.currentContext();
    Promise<T> promise = Promise.promise();
    cf.whenComplete(
        (v, err) -> {
          Runnable done =
              err == null ? () -> promise.complete(v) : () -> promise.fail(asStatus(err));
          if (ctx == null) {
            done.run();
          } else {
            ctx.runOnContext(x -> done.run());
          }
        });
    return promise.future();
  }

  /**
   * Binds a unary method whose implementation also reads the request's gRPC headers (the generated
   * service classes only hand over the message).
   */
  static <Req, Resp> void unary(
      io.vertx.grpc.server.GrpcServer server,
      io.vertx.grpc.common.ServiceMethod<Req, Resp> method,
      java.util.function.BiFunction<Req, io.vertx.core.MultiMap, Future<Resp>> impl) {
    server.callHandler(
        method,
        call ->
            call.handler(
                msg -> {
                  Future<Resp> f;
                  try {
                    f = impl.apply(msg, call.headers());
                  } catch (RuntimeException e) {
                    f = Future.failedFuture(asStatus(e));
                  }
                  f.onComplete(
                      (res, err) -> {
                        if (err == null) {
                          call.response().end(res);
                        } else {
                          call.response().fail(err);
                        }
                      });
                }));
  }

  /**
   * A unary call to another member that keeps the answer's gRPC status and message (the generated
   * client methods replace them with their own exception): a non-OK answer fails with a {@link
   * StatusException} carrying them, so it can be relayed as is.
   */
  static <Req, Resp> Future<Resp> call(
      io.vertx.grpc.client.GrpcClient client,
      io.vertx.core.net.SocketAddress to,
      io.vertx.grpc.common.ServiceMethod<Resp, Req> method,
      Req request,
      long timeoutMillis) {
    return client
        .request(to, method)
        .compose(
            req -> {
              req.timeout(timeoutMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
              return req.send(request);
            })
        .compose(
            resp -> {
              Promise<Resp> answer = Promise.promise();
              java.util.List<Resp> got = new java.util.ArrayList<>(1);
              resp.handler(got::add);
              resp.exceptionHandler(answer::tryFail);
              resp.endHandler(
                  v -> {
                    if (resp.status() == GrpcStatus.OK && !got.isEmpty()) {
                      answer.tryComplete(got.get(0));
                    } else {
                      answer.tryFail(
                          new StatusException(
                              resp.status() == GrpcStatus.OK ? GrpcStatus.INTERNAL : resp.status(),
                              resp.statusMessage()));
                    }
                  });
              return answer.future();
            })
        .recover(
            err ->
                Future.failedFuture(
                    err instanceof StatusException
                        ? err
                        : new StatusException(
                            GrpcStatus.UNAVAILABLE,
                            "etcdserver: cannot reach the leader at " + to + ": " + err)));
  }

  /** Any failure that is not already an etcd status becomes an INTERNAL one, logged here. */
  static StatusException asStatus(Throwable err) {
    Throwable cause = err;
    while ((cause instanceof CompletionException
            || cause instanceof java.util.concurrent.ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof StatusException s) {
      return s;
    }
    log.error("request failed unexpectedly", cause);
    return new StatusException(GrpcStatus.INTERNAL, "etcdserver: " + cause);
  }
}

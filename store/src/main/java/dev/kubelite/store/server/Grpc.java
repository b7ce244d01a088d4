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

package dev.kubelite.launcher;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control-plane endpoint of {@code kubelite up --ha}: a TCP load balancer on one port in front
 * of the members' API servers, as kubeadm's HA setup puts one (haproxy, kube-vip) in front of its
 * kube-apiservers. Each new connection goes to the next member in turn; a member that refuses the
 * connection (stopped, killed) is skipped, so clients that reconnect — kubectl's next command, an
 * informer's next watch — reach a member that runs. Bytes are copied both ways unchanged; a
 * connection ends when either side ends it.
 */
final class LoadBalancer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LoadBalancer.class);

  /** A backend: an API server's host and port. */
  record Backend(String name, String host, int port) {}

  private final Vertx vertx;
  private final NetServer server;

  private LoadBalancer(Vertx vertx, NetServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** Listens on {@code host:port} and spreads connections over {@code backends}. */
  static LoadBalancer start(String host, int port, List<Backend> backends) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      NetClient client =
          vertx.createNetClient(new NetClientOptions().setConnectTimeout(2000).setTcpNoDelay(true));
      AtomicInteger next = new AtomicInteger();
      NetServer server =
          vertx
              .createNetServer(new NetServerOptions().setHost(host).setPort(port))
              .connectHandler(
                  in -> {
                    in.pause();
                    int first = Math.floorMod(next.getAndIncrement(), backends.size());
                    connect(client, backends, first, 0)
                        .onSuccess(
                            out -> {
                              in.pipeTo(out);
                              out.pipeTo(in);
                            })
                        .onFailure(
                            e -> {
                              log.warn(
                                  "no API server takes connections ({}); closing the client's",
                                  e.getMessage());
                              in.close();
                            });
                  })
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      return new LoadBalancer(vertx, server);
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
  }

  /** Connects to backend {@code first + tried}, or the ones after it if it refuses. */
  private static Future<NetSocket> connect(
      NetClient client, List<Backend> backends, int first, int tried) {
    Backend b = backends.get((first + tried) % backends.size());
    Promise<NetSocket> result = Promise.promise();
    client
        .connect(b.port(), b.host())
        .onSuccess(result::complete)
        .onFailure(
            e -> {
              if (tried + 1 >= backends.size()) {
                result.fail(e);
              } else {
                log.debug("{} refused a connection ({}); trying the next member", b.name(), e);
                connect(client, backends, first, tried + 1).onComplete(result);
              }
            });
    return result.future();
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("stopping the load balancer failed", e);
    }
  }
}

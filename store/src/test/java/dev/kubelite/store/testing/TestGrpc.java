package dev.kubelite.store.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Vert.x instance with a gRPC client for tests that call the store (or etcd) over gRPC directly;
 * messages up to 64 MiB are accepted, as etcd's clients accept large responses. As a JUnit
 * extension ({@code @RegisterExtension final TestGrpc grpc = new TestGrpc();}) it is closed after
 * each test.
 */
public final class TestGrpc implements AutoCloseable, AfterEachCallback {
  private static final int TIMEOUT_SECONDS = 20;

  public final Vertx vertx = Vertx.vertx();
  public final GrpcClient client = newClient();

  /** A second client with its own connections (a stream that is not read stalls its connection). */
  public GrpcClient newClient() {
    return GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(64 << 20));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  /** The server address 127.0.0.1:{@code port}. */
  public static SocketAddress at(int port) {
    return SocketAddress.inetSocketAddress(port, "127.0.0.1");
  }

  /** Waits for a call's result (20 s at most). */
  public static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    try {
      get(client.close());
      get(vertx.close());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while closing the gRPC client", e);
    } catch (Exception e) {
      throw new IllegalStateException("closing the gRPC client failed", e);
    }
  }
}

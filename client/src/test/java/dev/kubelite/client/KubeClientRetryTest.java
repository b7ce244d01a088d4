package dev.kubelite.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the client answers a server that asks it to come back later (429 with Retry-After, as the API
 * server's request limits do): it waits and sends again, up to client-go's ten retries. A plain
 * HTTP server on loopback plays the API server here, since the point is the exact answers it gives;
 * the real API server's 429s are covered by its RequestLimitsTest.
 */
class KubeClientRetryTest {
  private HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();

  private static final String STATUS_429 =
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"too many"
          + " requests, please try again later\",\"reason\":\"TooManyRequests\",\"code\":429}";

  /** Answers 429 (Retry-After: {@code retryAfter}) to the first {@code refusals} requests. */
  private KubeClient serve(int refusals, String retryAfter) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          int n = requests.incrementAndGet();
          ex.getRequestBody().readAllBytes();
          boolean refuse = n <= refusals;
          byte[] body =
              (refuse
                      ? STATUS_429
                      : "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"c\"}}")
                  .getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          if (refuse) {
            ex.getResponseHeaders().add("Retry-After", retryAfter);
          }
          ex.sendResponseHeaders(refuse ? 429 : 201, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return new KubeClient(
        URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
        null,
        Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void aRefusedCreateIsSentAgainAfterRetryAfter() throws Exception {
    KubeClient c = serve(2, "1");
    long start = System.nanoTime();
    var created =
        c.create(Resource.CONFIGMAPS, "default", KubeClient.JSON.createObjectNode().put("a", 1));
    assertThat(created.path("metadata").path("name").asText()).isEqualTo("c");
    assertThat(requests.get()).isEqualTo(3);
    // Two waits of the one second the server asked for.
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aServerThatKeepsRefusingGetsElevenAttemptsThenTheStatus() throws Exception {
    KubeClient c = serve(Integer.MAX_VALUE, "0");
    assertThatThrownBy(() -> c.get(Resource.CONFIGMAPS, "default", "c"))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.code()).isEqualTo(429);
              assertThat(e.reason()).isEqualTo("TooManyRequests");
            });
    assertThat(requests.get()).isEqualTo(KubeClient.MAX_RETRIES + 1);
  }
}

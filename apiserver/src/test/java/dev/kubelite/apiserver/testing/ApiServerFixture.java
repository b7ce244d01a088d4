package dev.kubelite.apiserver.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * An API server on a free loopback port, backed by a real store: an in-process Kubelite store
 * member (through the embedded client or over gRPC) or a real etcd 3.4 process.
 */
public final class ApiServerFixture implements AutoCloseable {
  /** Which store backs the API server. */
  public enum Backend {
    EMBEDDED,
    REMOTE_OURS,
    REMOTE_ETCD
  }

  public static final ObjectMapper JSON = new ObjectMapper();

  public final Path dir;
  public final StoreServer storeServer;
  public final EtcdProcess etcd;
  public final KvStore store;
  public final ApiServer api;
  public final String storeEndpoint;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private ApiServerFixture(
      Path dir,
      StoreServer storeServer,
      EtcdProcess etcd,
      KvStore store,
      String storeEndpoint,
      UnaryOperator<KvStore> wrap,
      int watchCacheWindow,
      UnaryOperator<ApiServer.Options> configure)
      throws Exception {
    this.dir = dir;
    this.storeServer = storeServer;
    this.etcd = etcd;
    this.store = store;
    this.storeEndpoint = storeEndpoint;
    // A fresh member elects itself first; until then requests fail with "no leader".
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> store.currentRevision().get(5, TimeUnit.SECONDS) >= 1);
    this.api =
        ApiServer.start(
            wrap.apply(store),
            configure.apply(new ApiServer.Options("127.0.0.1", 0, watchCacheWindow)));
  }

  public static ApiServerFixture start(Backend backend) throws Exception {
    return start(backend, s -> s, WatchCache.DEFAULT_WINDOW);
  }

  /** Over an embedded store member, with the API server's options changed by {@code options}. */
  public static ApiServerFixture start(UnaryOperator<ApiServer.Options> options) throws Exception {
    return start(Backend.EMBEDDED, s -> s, WatchCache.DEFAULT_WINDOW, options);
  }

  /** With the API server's store client wrapped (to observe its calls) and a watch cache window. */
  public static ApiServerFixture start(
      Backend backend, UnaryOperator<KvStore> wrap, int watchCacheWindow) throws Exception {
    return start(backend, wrap, watchCacheWindow, o -> o);
  }

  /** With the API server's options adjusted by {@code configure} (limits, audit, ...). */
  public static ApiServerFixture start(
      Backend backend,
      UnaryOperator<KvStore> wrap,
      int watchCacheWindow,
      UnaryOperator<ApiServer.Options> configure)
      throws Exception {
    Path dir = Files.createTempDirectory("apiserver-test");
    if (backend == Backend.REMOTE_ETCD) {
      EtcdProcess etcd = EtcdProcess.start(dir, "etcd1", "apiserver-test");
      String ep = "127.0.0.1:" + etcd.clientPort;
      return new ApiServerFixture(
          dir,
          null,
          etcd,
          RemoteKvStore.connect(List.of(ep)),
          ep,
          wrap,
          watchCacheWindow,
          configure);
    }
    int clientPort = FreePorts.next();
    int peerPort = FreePorts.next();
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    StoreServer server =
        StoreServer.start(
            MemberConfig.fromFlags(
                "m1",
                dir.resolve("store").toString(),
                client,
                client,
                peer,
                peer,
                null,
                null,
                "apiserver-test"));
    KvStore store =
        backend == Backend.EMBEDDED
            ? EmbeddedKvStore.of(server)
            : RemoteKvStore.connect(List.of("127.0.0.1:" + clientPort));
    return new ApiServerFixture(
        dir, server, null, store, "127.0.0.1:" + clientPort, wrap, watchCacheWindow, configure);
  }

  public String url() {
    return "http://127.0.0.1:" + api.port();
  }

  /** An HTTP answer: status, headers, body. */
  public record Response(int code, String contentType, String body) {
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + code + "): " + body, e);
      }
    }
  }

  public Response request(
      String method, String path, String contentType, String body, String accept)
      throws IOException, InterruptedException {
    return request(method, path, contentType, body, accept, null);
  }

  /**
   * A request with {@code Authorization: Bearer <token>} (when token is not null) and extra headers
   * (name, value, name, value...).
   */
  public Response request(
      String method,
      String path,
      String contentType,
      String body,
      String accept,
      String token,
      String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (accept != null) {
      b.header("Accept", accept);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Response(
        r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  public Response request(String method, String path, byte[] body, String contentType)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url() + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", contentType)
            .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Response(
        r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  public Response get(String path) throws IOException, InterruptedException {
    return request("GET", path, null, null, null);
  }

  public Response post(String path, String json) throws IOException, InterruptedException {
    return request("POST", path, "application/json", json, null);
  }

  public Response put(String path, String json) throws IOException, InterruptedException {
    return request("PUT", path, "application/json", json, null);
  }

  public Response patch(String path, String type, String json)
      throws IOException, InterruptedException {
    return request("PATCH", path, type, json, null);
  }

  public Response delete(String path, String json) throws IOException, InterruptedException {
    return request("DELETE", path, json == null ? null : "application/json", json, null);
  }

  public HttpClient http() {
    return http;
  }

  @Override
  public void close() {
    if (api != null) {
      api.close();
    }
    store.close();
    if (storeServer != null) {
      storeServer.close();
    }
    if (etcd != null) {
      etcd.close();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot clean up " + dir, e);
    }
  }
}

package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.auth.Authenticator;
import dev.kubelite.apiserver.auth.UserInfo;
import dev.kubelite.apiserver.http.RequestLimits;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Backend;
import dev.kubelite.apiserver.testing.GatedKvStore;
import dev.kubelite.apiserver.testing.WatchClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Request limits through HTTP: an API server over a real store whose reads of "slow-*" objects wait
 * until the test lets them through, so requests stay in flight exactly as long as needed.
 */
class RequestLimitsTest {
  ApiServerFixture f;
  GatedKvStore gated;

  @AfterEach
  void stop() {
    if (gated != null) {
      gated.open();
    }
    if (f != null) {
      f.close();
    }
  }

  void start(Backend backend, RequestLimits.Settings limits) throws Exception {
    f =
        ApiServerFixture.start(
            backend,
            s -> gated = new GatedKvStore(s, "/slow-"),
            WatchCache.DEFAULT_WINDOW,
            o -> o.withLimits(limits));
  }

  HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(f.url() + path)).timeout(Duration.ofSeconds(30));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return f.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  CompletableFuture<HttpResponse<String>> slowGet(int i) {
    return f.http()
        .sendAsync(
            HttpRequest.newBuilder(
                    URI.create(f.url() + "/api/v1/namespaces/default/configmaps/slow-" + i))
                .timeout(Duration.ofSeconds(60))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return ApiServerFixture.JSON.readTree(r.body());
  }

  static void assertTooMany(HttpResponse<String> r, String flag) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
    JsonNode s = json(r);
    assertThat(s.path("kind").asText()).isEqualTo("Status");
    assertThat(s.path("reason").asText()).isEqualTo("TooManyRequests");
    assertThat(s.path("code").asInt()).isEqualTo(429);
    assertThat(s.path("details").path("retryAfterSeconds").asInt()).isEqualTo(1);
    assertThat(s.path("message").asText())
        .startsWith("Too many requests, please try again later.")
        .contains(flag);
  }

  @Test
  void aClientPastItsCapGets429WithRetryAfterUntilItsRequestsFinish() throws Exception {
    start(Backend.EMBEDDED, RequestLimits.Settings.DEFAULTS.withPerClient(5, 0));
    // 20 requests at once: 5 are taken (and wait in the store), 15 are refused.
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      all.add(slowGet(i));
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> all.stream().filter(c -> c.isDone()).count() == 15);
    assertThat(gated.parked.get()).isEqualTo(5);
    List<CompletableFuture<HttpResponse<String>>> parked = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> c : all) {
      if (c.isDone()) {
        assertTooMany(c.get(), "--max-requests-inflight-per-client");
      } else {
        parked.add(c);
      }
    }

    // The sixth request of the same client (127.0.0.1: no authentication) is refused at once.
    assertTooMany(
        send("GET", "/api/v1/namespaces/default/configmaps", null),
        "--max-requests-inflight-per-client");
    assertTooMany(
        send("POST", "/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"name\":\"a\"}}"),
        "--max-requests-inflight-per-client");
    // Long-running requests do not count toward in-flight requests, as in Kubernetes.
    try (WatchClient w =
        new WatchClient(
            f.http(), f.url() + "/api/v1/namespaces/default/configmaps?watch=1", null)) {
      assertThat(w.status).isEqualTo(200);
    }

    gated.open();
    for (CompletableFuture<HttpResponse<String>> p : parked) {
      assertThat(p.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(404);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                send(
                            "POST",
                            "/api/v1/namespaces/default/configmaps",
                            "{\"metadata\":{\"name\":\"a\"}}")
                        .statusCode()
                    == 201);
  }

  @Test
  void aClientThatNeverFinishesSendingItsBodyIs504AtTheTimeout() throws Exception {
    start(
        Backend.EMBEDDED,
        RequestLimits.Settings.DEFAULTS.withRequestTimeout(Duration.ofMillis(500)));
    try (Socket s = new Socket("127.0.0.1", f.api.port())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"metadata\":")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // Nothing more is sent; the server answers at the deadline instead of waiting forever.
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      assertThat(in.readLine()).startsWith("HTTP/1.1 504");
    }
  }

  /** A stand-in authenticator: the user and groups a request names in test headers. */
  static final Authenticator HEADER_USERS =
      req -> {
        String name = req.getHeader("X-Test-User");
        if (name == null) {
          return UserInfo.UNAUTHENTICATED_ADMIN;
        }
        String groups = req.getHeader("X-Test-Groups");
        return new UserInfo(
            name,
            "",
            groups == null ? List.of("system:authenticated") : List.of(groups.split(",")));
      };

  CompletableFuture<HttpResponse<String>> slowGetAs(int i, String user, String groups) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(f.url() + "/api/v1/namespaces/default/configmaps/slow-" + i))
            .timeout(Duration.ofSeconds(60))
            .header("X-Test-User", user);
    if (groups != null) {
      b.header("X-Test-Groups", groups);
    }
    return f.http().sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void authenticatedClientsAreCountedByUserAndSystemMastersAreNotCounted() throws Exception {
    f =
        ApiServerFixture.start(
            Backend.EMBEDDED,
            s -> gated = new GatedKvStore(s, "/slow-"),
            WatchCache.DEFAULT_WINDOW,
            o ->
                o.withAuthentication(HEADER_USERS)
                    .withLimits(RequestLimits.Settings.DEFAULTS.withPerClient(2, 0)));
    List<CompletableFuture<HttpResponse<String>>> parked = new ArrayList<>();
    parked.add(slowGetAs(1, "alice", null));
    parked.add(slowGetAs(2, "alice", null));
    await().atMost(Duration.ofSeconds(20)).until(() -> gated.parked.get() == 2);
    HttpResponse<String> third = slowGetAs(3, "alice", null).get(30, TimeUnit.SECONDS);
    assertTooMany(third, "--max-requests-inflight-per-client");
    assertThat(json(third).path("message").asText())
        .contains("User \"alice\" has 2 requests in flight");
    // Another user from the same address has a cap of its own.
    parked.add(slowGetAs(4, "bob", null));
    parked.add(slowGetAs(5, "bob", null));
    // An authenticated system:masters member is not counted, as in kube-apiserver.
    for (int i = 6; i < 9; i++) {
      parked.add(slowGetAs(i, "kubernetes-admin", "system:masters,system:authenticated"));
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> gated.parked.get() == 7);
    assertThat(parked).noneMatch(CompletableFuture::isDone);
    gated.open();
    for (CompletableFuture<HttpResponse<String>> p : parked) {
      assertThat(p.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void theServerWideReadOnlyCapLeavesMutatingRequestsTheirOwn() throws Exception {
    start(
        Backend.EMBEDDED, RequestLimits.Settings.DEFAULTS.withInflight(3, 200).withPerClient(0, 0));
    List<CompletableFuture<HttpResponse<String>>> parked = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      parked.add(slowGet(i));
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> gated.parked.get() == 3);
    assertTooMany(send("GET", "/api/v1/namespaces", null), "--max-requests-inflight");
    assertTooMany(send("GET", "/version", null), "--max-requests-inflight");
    assertThat(
            send("POST", "/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"name\":\"b\"}}")
                .statusCode())
        .isEqualTo(201);
    gated.open();
    for (CompletableFuture<HttpResponse<String>> p : parked) {
      assertThat(p.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(404);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> send("GET", "/api/v1/namespaces", null).statusCode() == 200);
  }

  @Test
  void tooManyWatchesFromOneClientAre429AndAClosedWatchFreesItsPlace() throws Exception {
    start(Backend.EMBEDDED, RequestLimits.Settings.DEFAULTS.withPerClient(100, 3));
    List<WatchClient> open = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        WatchClient w =
            new WatchClient(
                f.http(), f.url() + "/api/v1/namespaces/default/configmaps?watch=true", null);
        open.add(w);
        assertThat(w.status).isEqualTo(200);
      }
      assertTooMany(send("GET", "/api/v1/configmaps?watch=true", null), "--max-watches-per-client");
      // Other requests are not affected.
      assertThat(send("GET", "/api/v1/configmaps", null).statusCode()).isEqualTo(200);

      open.remove(0).close();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                WatchClient w =
                    new WatchClient(f.http(), f.url() + "/api/v1/pods?watch=true", null);
                if (w.status == 200) {
                  open.add(w);
                  return true;
                }
                w.close();
                return false;
              });
    } finally {
      for (WatchClient w : open) {
        w.close();
      }
    }
  }

  @Test
  void aRequestPastTheTimeoutIs504ButAWatchOutlivesIt() throws Exception {
    start(
        Backend.EMBEDDED,
        RequestLimits.Settings.DEFAULTS.withRequestTimeout(Duration.ofMillis(500)));
    try (WatchClient w =
        new WatchClient(
            f.http(),
            f.url() + "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=120",
            null)) {
      assertThat(w.status).isEqualTo(200);
      HttpResponse<String> r = slowGet(1).get(30, TimeUnit.SECONDS);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
      JsonNode s = json(r);
      assertThat(s.path("kind").asText()).isEqualTo("Status");
      assertThat(s.path("reason").asText()).isEqualTo("Timeout");
      assertThat(s.path("message").asText())
          .isEqualTo(
              "Timeout: request did not complete within requested timeout - context deadline"
                  + " exceeded");
      // The watch began before that request and is still delivering.
      assertThat(
              send(
                      "POST",
                      "/api/v1/namespaces/default/configmaps",
                      "{\"metadata\":{\"name\":\"after\"}}")
                  .statusCode())
          .isEqualTo(201);
      JsonNode e = w.next();
      assertThat(e.path("type").asText()).isEqualTo("ADDED");
      assertThat(e.path("object").path("metadata").path("name").asText()).isEqualTo("after");
    }
    // ?timeout= shortens it; a malformed one is refused.
    assertThat(
            send("GET", "/api/v1/namespaces/default/configmaps/slow-2?timeout=100ms", null)
                .statusCode())
        .isEqualTo(504);
    HttpResponse<String> bad = send("GET", "/api/v1/namespaces?timeout=soon", null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).path("message").asText())
        .isEqualTo("invalid timeout specified in the request URL");
    assertThat(send("GET", "/api/v1/namespaces?timeout=30s", null).statusCode()).isEqualTo(200);
  }

  @Test
  void bodiesOverTheApiLimitAndObjectsOverTheStoreLimitAre413() throws Exception {
    // Over gRPC to a real store member, which enforces etcd's 1.5 MiB --max-request-bytes.
    start(Backend.REMOTE_OURS, RequestLimits.Settings.DEFAULTS);
    HttpResponse<String> body =
        send("POST", "/api/v1/namespaces/default/configmaps", cmWithData("big1", 4 << 20));
    assertThat(body.statusCode()).isEqualTo(413);
    assertThat(json(body).path("reason").asText()).isEqualTo("RequestEntityTooLarge");
    assertThat(json(body).path("message").asText()).contains("limit is 3145728 bytes");

    HttpResponse<String> store =
        send("POST", "/api/v1/namespaces/default/configmaps", cmWithData("big2", 2 << 20));
    assertThat(store.statusCode()).as(store.body()).isEqualTo(413);
    assertThat(json(store).path("reason").asText()).isEqualTo("RequestEntityTooLarge");
    assertThat(json(store).path("message").asText())
        .contains("larger than the store accepts")
        .contains("request is too large");

    // An update that grows an object past the store's limit is refused the same way.
    assertThat(
            send("POST", "/api/v1/namespaces/default/configmaps", cmWithData("grow", 10))
                .statusCode())
        .isEqualTo(201);
    HttpResponse<String> grow =
        send("PUT", "/api/v1/namespaces/default/configmaps/grow", cmWithData("grow", 2 << 20));
    assertThat(grow.statusCode()).as(grow.body()).isEqualTo(413);
    assertThat(
            json(send("GET", "/api/v1/namespaces/default/configmaps/grow", null))
                .path("data")
                .path("k")
                .asText())
        .hasSize(10);
  }

  static String cmWithData(String name, int bytes) {
    return "{\"metadata\":{\"name\":\""
        + name
        + "\"},\"data\":{\"k\":\""
        + "x".repeat(bytes)
        + "\"}}";
  }
}

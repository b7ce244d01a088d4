package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.audit.AuditConfig;
import dev.kubelite.apiserver.audit.AuditPolicy;
import dev.kubelite.apiserver.auth.UserInfo;
import dev.kubelite.apiserver.http.RequestLimits;
import dev.kubelite.apiserver.storage.WatchCache;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Backend;
import dev.kubelite.apiserver.testing.WatchClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit log through HTTP: requests to a real API server, then its log file read back. */
class AuditTest {
  @TempDir Path dir;
  ApiServerFixture f;
  Path log;

  @AfterEach
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  void start(AuditPolicy policy) throws Exception {
    log = dir.resolve("logs/audit.log");
    AuditConfig audit = AuditConfig.metadata(log);
    AuditConfig config = policy == null ? audit : audit.withPolicy(policy);
    f =
        ApiServerFixture.start(
            Backend.EMBEDDED, s -> s, WatchCache.DEFAULT_WINDOW, o -> o.withAudit(config));
  }

  HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(f.url() + path))
            .timeout(Duration.ofSeconds(30))
            .header("User-Agent", "audit-test/1.0");
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

  List<String> lines() throws IOException {
    if (!Files.exists(log)) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String l : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      if (!l.isBlank()) {
        out.add(l);
      }
    }
    return out;
  }

  List<JsonNode> events() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String l : lines()) {
      out.add(ApiServerFixture.JSON.readTree(l));
    }
    return out;
  }

  /** Waits for the one event that matches. */
  JsonNode await1(Predicate<JsonNode> p) {
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> events().stream().filter(p).toList(),
            l -> {
              assertThat(l).hasSizeLessThanOrEqualTo(1);
              return l.size() == 1;
            })
        .get(0);
  }

  static Predicate<JsonNode> event(String verb, String uri, String stage) {
    return e ->
        e.path("verb").asText().equals(verb)
            && e.path("requestURI").asText().equals(uri)
            && e.path("stage").asText().equals(stage);
  }

  static void assertAdmin(JsonNode e) {
    assertThat(e.path("kind").asText()).isEqualTo("Event");
    assertThat(e.path("apiVersion").asText()).isEqualTo("audit.k8s.io/v1");
    assertThat(e.path("level").asText()).isEqualTo("Metadata");
    assertThat(e.path("user").path("username").asText()).isEqualTo("system:admin");
    assertThat(e.path("user").path("groups").toString()).contains("system:masters");
    assertThat(e.path("sourceIPs").get(0).asText()).isEqualTo("127.0.0.1");
    assertThat(e.path("userAgent").asText()).isEqualTo("audit-test/1.0");
    assertThat(e.has("requestObject")).isFalse();
    assertThat(e.has("responseObject")).isFalse();
    Instant received = Instant.parse(e.path("requestReceivedTimestamp").asText());
    Instant stage = Instant.parse(e.path("stageTimestamp").asText());
    assertThat(stage).isAfterOrEqualTo(received);
    assertThat(e.path("requestReceivedTimestamp").asText()).matches(".*\\.\\d{6}Z");
  }

  @Test
  void everyRequestIsOneMetadataLineWithWhoWhatAndTheCode() throws Exception {
    start(null);
    String base = "/api/v1/namespaces/default/configmaps";
    HttpResponse<String> created = send("POST", base, "{\"metadata\":{\"name\":\"cm1\"}}");
    assertThat(created.statusCode()).isEqualTo(201);
    HttpResponse<String> got = send("GET", base + "/cm1", null);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(send("GET", base, null).statusCode()).isEqualTo(200);
    assertThat(send("GET", base + "/missing", null).statusCode()).isEqualTo(404);
    assertThat(send("DELETE", base + "/cm1", null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/apis/apps/v1/namespaces/default/deployments", null).statusCode())
        .isEqualTo(200);

    JsonNode create = await1(event("create", base, "ResponseComplete"));
    assertAdmin(create);
    assertThat(create.path("responseStatus").path("code").asInt()).isEqualTo(201);
    assertThat(create.path("objectRef").path("resource").asText()).isEqualTo("configmaps");
    assertThat(create.path("objectRef").path("namespace").asText()).isEqualTo("default");
    assertThat(create.path("objectRef").path("name").asText()).isEqualTo("cm1");
    assertThat(create.path("objectRef").path("apiVersion").asText()).isEqualTo("v1");
    assertThat(create.path("objectRef").has("apiGroup")).isFalse();
    assertThat(create.path("auditID").asText())
        .isEqualTo(created.headers().firstValue("Audit-Id").orElseThrow());

    JsonNode get = await1(event("get", base + "/cm1", "ResponseComplete"));
    assertAdmin(get);
    assertThat(get.path("responseStatus").path("code").asInt()).isEqualTo(200);
    assertThat(get.path("auditID").asText())
        .isEqualTo(got.headers().firstValue("Audit-Id").orElseThrow());

    JsonNode list = await1(event("list", base, "ResponseComplete"));
    assertAdmin(list);
    assertThat(list.path("objectRef").has("name")).isFalse();

    JsonNode missing = await1(event("get", base + "/missing", "ResponseComplete"));
    assertThat(missing.path("responseStatus").path("code").asInt()).isEqualTo(404);
    assertThat(missing.path("responseStatus").path("reason").asText()).isEqualTo("NotFound");
    assertThat(missing.path("responseStatus").path("message").asText())
        .isEqualTo("configmaps \"missing\" not found");

    JsonNode delete = await1(event("delete", base + "/cm1", "ResponseComplete"));
    assertAdmin(delete);
    assertThat(delete.path("responseStatus").path("code").asInt()).isEqualTo(200);
    assertThat(delete.path("objectRef").path("name").asText()).isEqualTo("cm1");

    JsonNode apps =
        await1(event("list", "/apis/apps/v1/namespaces/default/deployments", "ResponseComplete"));
    assertThat(apps.path("objectRef").path("apiGroup").asText()).isEqualTo("apps");
    assertThat(apps.path("objectRef").path("resource").asText()).isEqualTo("deployments");

    // Without a policy file, no RequestReceived stage: one line per request.
    assertThat(events()).noneMatch(e -> e.path("stage").asText().equals("RequestReceived"));
  }

  @Test
  void aWatchIsAuditedWhenItStartsAndWhenItEnds() throws Exception {
    start(null);
    String uri = "/api/v1/namespaces/default/pods?watch=true";
    try (WatchClient w = new WatchClient(f.http(), f.url() + uri, null)) {
      assertThat(w.status).isEqualTo(200);
      JsonNode started = await1(event("watch", uri, "ResponseStarted"));
      assertThat(started.path("responseStatus").path("code").asInt()).isEqualTo(200);
      assertThat(started.path("user").path("username").asText()).isEqualTo("system:admin");
      assertThat(started.path("objectRef").path("resource").asText()).isEqualTo("pods");
    }
    JsonNode complete = await1(event("watch", uri, "ResponseComplete"));
    assertThat(complete.path("responseStatus").path("code").asInt()).isEqualTo(200);
    // A watch that ends by its own timeout is complete too.
    String timed = "/api/v1/pods?watch=true&timeoutSeconds=1";
    assertThat(send("GET", timed, null).statusCode()).isEqualTo(200);
    await1(event("watch", timed, "ResponseComplete"));
  }

  @Test
  void secretValuesNeverReachTheLogEvenUnderRequestResponse() throws Exception {
    start(
        policy(
            "apiVersion: audit.k8s.io/v1\n"
                + "kind: Policy\n"
                + "rules:\n"
                + "  - level: None\n"
                + "    nonResourceURLs: [\"/healthz*\", \"/version\"]\n"
                + "  - level: None\n"
                + "    verbs: [list]\n"
                + "    resources:\n"
                + "      - group: \"\"\n"
                + "        resources: [pods]\n"
                + "  - level: RequestResponse\n"));
    String plaintext = "hunter2-very-secret";
    String b64 = Base64.getEncoder().encodeToString(plaintext.getBytes(StandardCharsets.UTF_8));
    String base = "/api/v1/namespaces/default";
    assertThat(
            send(
                    "POST",
                    base + "/secrets",
                    "{\"metadata\":{\"name\":\"s1\"},\"data\":{\"password\":\""
                        + b64
                        + "\"},\"stringData\":{\"token\":\""
                        + plaintext
                        + "\"}}")
                .statusCode())
        .isEqualTo(201);
    assertThat(send("GET", base + "/secrets/s1", null).statusCode()).isEqualTo(200);
    assertThat(
            send(
                    "POST",
                    base + "/configmaps",
                    "{\"metadata\":{\"name\":\"c1\"},\"data\":{\"k\":\"" + plaintext + "\"}}")
                .statusCode())
        .isEqualTo(201);
    assertThat(
            send(
                    "POST",
                    base + "/serviceaccounts",
                    "{\"metadata\":{\"name\":\"sa1\",\"labels\":{\"x\":\"visible\"}}}")
                .statusCode())
        .isEqualTo(201);
    assertThat(send("GET", base + "/serviceaccounts/sa1", null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/version", null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/healthz", null).statusCode()).isEqualTo(200);
    assertThat(send("GET", base + "/pods", null).statusCode()).isEqualTo(200);
    assertThat(send("GET", base + "/pods/nope", null).statusCode()).isEqualTo(404);

    // A resource the policy logs in full: request and response objects, and every stage.
    JsonNode sa = await1(event("create", base + "/serviceaccounts", "ResponseComplete"));
    assertThat(sa.path("level").asText()).isEqualTo("RequestResponse");
    assertThat(sa.path("requestObject").path("metadata").path("labels").path("x").asText())
        .isEqualTo("visible");
    assertThat(sa.path("responseObject").path("metadata").path("uid").asText()).isNotEmpty();
    // A get answers with the stored JSON; the log parses it for responseObject.
    JsonNode got = await1(event("get", base + "/serviceaccounts/sa1", "ResponseComplete"));
    assertThat(got.path("responseObject").path("metadata").path("labels").path("x").asText())
        .isEqualTo("visible");
    assertThat(got.path("responseObject").path("metadata").path("resourceVersion").asText())
        .isEqualTo(sa.path("responseObject").path("metadata").path("resourceVersion").asText())
        .isNotEmpty();
    JsonNode received = await1(event("create", base + "/serviceaccounts", "RequestReceived"));
    assertThat(received.has("responseStatus")).isFalse();
    assertThat(received.path("user").path("username").asText()).isEqualTo("system:admin");
    await1(event("get", base + "/pods/nope", "ResponseComplete"));

    // Secrets and ConfigMaps: Metadata at most, whatever the policy says.
    JsonNode secret = await1(event("create", base + "/secrets", "ResponseComplete"));
    assertThat(secret.path("level").asText()).isEqualTo("Metadata");
    assertThat(secret.path("objectRef").path("name").asText()).isEqualTo("s1");
    assertThat(secret.path("responseStatus").path("code").asInt()).isEqualTo(201);
    assertThat(secret.has("requestObject")).isFalse();
    assertThat(secret.has("responseObject")).isFalse();
    assertThat(await1(event("get", base + "/secrets/s1", "ResponseComplete")).has("responseObject"))
        .isFalse();
    assertThat(
            await1(event("create", base + "/configmaps", "ResponseComplete"))
                .path("level")
                .asText())
        .isEqualTo("Metadata");
    assertThat(lines()).noneMatch(l -> l.contains(plaintext) || l.contains(b64));

    // Rules with level None: not audited.
    assertThat(events())
        .noneMatch(
            e ->
                e.path("requestURI").asText().equals("/version")
                    || e.path("requestURI").asText().equals("/healthz")
                    || e.path("requestURI").asText().equals(base + "/pods"));
  }

  @Test
  void theUserIsTheAuthenticatorsAndRefusalsAreAuditedToo() throws Exception {
    log = dir.resolve("audit.log");
    f =
        ApiServerFixture.start(
            Backend.EMBEDDED,
            s -> s,
            WatchCache.DEFAULT_WINDOW,
            o ->
                o.withAudit(AuditConfig.metadata(log))
                    .withAuthentication(
                        req ->
                            new UserInfo(
                                "system:node:n1",
                                "u-1",
                                List.of("system:nodes", "system:authenticated")))
                    .withLimits(RequestLimits.Settings.DEFAULTS.withPerClient(100, 1)));
    String uri = "/api/v1/pods?watch=true";
    try (WatchClient w = new WatchClient(f.http(), f.url() + uri, null)) {
      assertThat(w.status).isEqualTo(200);
      HttpResponse<String> refused = send("GET", uri, null);
      assertThat(refused.statusCode()).isEqualTo(429);
      JsonNode e =
          await1(
              ev ->
                  ev.path("stage").asText().equals("ResponseComplete")
                      && ev.path("auditID")
                          .asText()
                          .equals(refused.headers().firstValue("Audit-Id").orElseThrow()));
      assertThat(e.path("user").path("username").asText()).isEqualTo("system:node:n1");
      assertThat(e.path("user").path("uid").asText()).isEqualTo("u-1");
      assertThat(e.path("user").path("groups").toString()).contains("system:nodes");
      assertThat(e.path("responseStatus").path("code").asInt()).isEqualTo(429);
      assertThat(e.path("responseStatus").path("reason").asText()).isEqualTo("TooManyRequests");
    }
  }

  AuditPolicy policy(String yaml) throws Exception {
    Path p = dir.resolve("policy.yaml");
    Files.writeString(p, yaml);
    return AuditPolicy.load(p);
  }
}

package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.store.testing.FreePorts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code pods/log} through the API server to the node's kubelet endpoint. The kubelet here is a
 * small HTTP server speaking the kubelet's {@code /containerLogs} path (the simulated kubelet lives
 * in a module that depends on this one; its own tests cover the whole path).
 */
class PodLogTest {
  static ApiServerFixture api;
  static Vertx vertx;
  static HttpServer kubelet;
  static final List<String> kubeletRequests = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    api = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
    vertx = Vertx.vertx();
    kubelet =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  kubeletRequests.add(req.uri());
                  if (req.path().contains("/missing/")) {
                    req.response().setStatusCode(404).end("pod not found on this node");
                  } else if ("true".equals(req.getParam("follow"))) {
                    // A followed log stays open: first lines now, more later, never ending.
                    req.response().setChunked(true).write("line 1\n");
                    vertx.setTimer(50, t -> req.response().write("line 2\n"));
                  } else {
                    req.response().end("line 1\nline 2\n");
                  }
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    post("/api/v1/nodes", node("n1", kubelet.actualPort()));
    post("/api/v1/nodes", node("n-dead", FreePorts.next()));
    post("/api/v1/nodes", "{\"metadata\":{\"name\":\"n-none\"}}");
    post("/api/v1/namespaces/default/pods", pod("one", "n1", "app"));
    post("/api/v1/namespaces/default/pods", pod("two", "n1", "app", "sidecar"));
    post("/api/v1/namespaces/default/pods", pod("pending", null, "app"));
    post("/api/v1/namespaces/default/pods", pod("dead", "n-dead", "app"));
    post("/api/v1/namespaces/default/pods", pod("none", "n-none", "app"));
    post("/api/v1/namespaces/default/pods", pod("missing", "n1", "app"));
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    api.close();
  }

  private static void post(String path, String json) throws Exception {
    Response r = api.post(path, json);
    assertThat(r.code()).as(r.body()).isEqualTo(201);
  }

  private static String node(String name, int port) {
    // Nodes are created with their status here, as a kubelet registering itself does.
    return "{\"metadata\":{\"name\":\""
        + name
        + "\"},\"status\":{\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":"
        + port
        + "}}}}";
  }

  private static String pod(String name, String node, String... containers) {
    StringBuilder cs = new StringBuilder();
    for (String c : containers) {
      cs.append(cs.length() == 0 ? "" : ",")
          .append("{\"name\":\"")
          .append(c)
          .append("\",\"image\":\"nginx\"}");
    }
    return "{\"metadata\":{\"name\":\""
        + name
        + "\"},\"spec\":{"
        + (node == null ? "" : "\"nodeName\":\"" + node + "\",")
        + "\"containers\":["
        + cs
        + "]}}";
  }

  @Test
  void execAttachAndPortForwardSayWhyTheyAreNotThere() throws Exception {
    Kubectl k = new Kubectl(api.dir, api.url());
    Kubectl.Result exec = k.run("exec", "one", "--", "ls");
    assertThat(exec.exitCode()).as(exec.output()).isNotZero();
    assertThat(exec.output())
        .contains("BadRequest")
        .contains("exec is not available for pod \"one\"")
        .contains("run no process");
    for (String sub : List.of("attach", "portforward")) {
      Response r = api.post("/api/v1/namespaces/default/pods/one/" + sub, "{}");
      assertThat(r.code()).as(r.body()).isEqualTo(400);
      assertThat(r.json().path("kind").asText()).isEqualTo("Status");
      assertThat(r.json().path("message").asText()).startsWith(sub + " is not available");
    }
  }

  @Test
  void logsComeFromTheNodesKubeletWithOptionsPassedThrough() throws Exception {
    Response r = api.get("/api/v1/namespaces/default/pods/one/log?tailLines=5&timestamps=true");
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    assertThat(r.contentType()).startsWith("text/plain");
    assertThat(r.body()).isEqualTo("line 1\nline 2\n");
    assertThat(kubeletRequests)
        .contains("/containerLogs/default/one/app?tailLines=5&timestamps=true");

    r = api.get("/api/v1/namespaces/default/pods/two/log?container=sidecar");
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    assertThat(kubeletRequests).contains("/containerLogs/default/two/sidecar");
  }

  @Test
  void followStreamsUntilTheClientLeaves() throws Exception {
    HttpResponse<InputStream> r =
        api.http()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            api.url() + "/api/v1/namespaces/default/pods/one/log?follow=true"))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      assertThat(lines.readLine()).isEqualTo("line 1");
      assertThat(lines.readLine()).isEqualTo("line 2");
    }
  }

  @Test
  void badRequestsAreStatusesNeverServerErrors() throws Exception {
    Response r = api.get("/api/v1/namespaces/default/pods/two/log");
    assertThat(r.code()).isEqualTo(400);
    assertThat(r.json().path("message").asText())
        .isEqualTo("a container name must be specified for pod two, choose one of: [app, sidecar]");

    r = api.get("/api/v1/namespaces/default/pods/one/log?container=nope");
    assertThat(r.code()).isEqualTo(400);
    assertThat(r.json().path("message").asText())
        .isEqualTo("container nope is not valid for pod one");

    r = api.get("/api/v1/namespaces/default/pods/pending/log");
    assertThat(r.code()).isEqualTo(400);
    assertThat(r.json().path("message").asText()).contains("is waiting to start");

    r = api.get("/api/v1/namespaces/default/pods/one/log?tailLines=-1");
    assertThat(r.code()).isEqualTo(400);
    r = api.get("/api/v1/namespaces/default/pods/one/log?follow=maybe");
    assertThat(r.code()).isEqualTo(400);
    r = api.get("/api/v1/namespaces/default/pods/ghost/log");
    assertThat(r.code()).isEqualTo(404);
    r = api.post("/api/v1/namespaces/default/pods/one/log", "{}");
    assertThat(r.code()).isEqualTo(405);

    r = api.get("/api/v1/namespaces/default/pods/missing/log");
    assertThat(r.code()).isEqualTo(404);

    r = api.get("/api/v1/namespaces/default/pods/dead/log");
    assertThat(r.code()).isEqualTo(503);
    assertThat(r.json().path("message").asText()).contains("cannot reach the kubelet of node");
    r = api.get("/api/v1/namespaces/default/pods/none/log");
    assertThat(r.code()).isEqualTo(503);
    assertThat(r.json().path("message").asText()).contains("publishes no kubelet endpoint");
  }

  @Test
  void discoveryListsTheLogSubresource() throws Exception {
    Response r = api.get("/api/v1");
    assertThat(r.body()).contains("\"name\":\"pods/log\"");
  }
}

package dev.kubelite.apiserver.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import dev.kubelite.store.testing.FreePorts;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code bin/kubelite apiserver} as a user runs it, against a store member on free ports. */
class ApiServerLauncherIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();

  @Test
  void servesTheApiFromTheStoreGivenByEtcdServers() throws Exception {
    Path dir = Files.createTempDirectory("apiserver-launcher");
    int clientPort = FreePorts.next();
    int peerPort = FreePorts.next();
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    int apiPort = FreePorts.next();
    StoreServer store =
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
                "launcher"));
    try {
      Process p =
          new ProcessBuilder(
                  ROOT.resolve("bin/kubelite").toString(),
                  "apiserver",
                  "--etcd-servers=" + client,
                  "--port",
                  Integer.toString(apiPort),
                  "--bind-address",
                  "127.0.0.1",
                  "--authorization-mode=Node,RBAC")
              .directory(ROOT.toFile())
              .redirectErrorStream(true)
              .start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Thread pump =
          new Thread(
              () -> {
                try {
                  p.getInputStream().transferTo(out);
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      pump.start();
      try {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + apiPort;
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .until(() -> get(http, base + "/readyz").statusCode() == 200);
        assertThat(get(http, base + "/version").body()).contains("\"minor\":\"32\"");
        assertThat(get(http, base + "/api/v1/namespaces/kube-system").body())
            .contains("\"name\":\"kube-system\"");
        // Without authentication every request is system:admin (system:masters); RBAC and the
        // bootstrap policy are seen through impersonation, as kubectl --as does.
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    send(http, "GET", base + "/api/v1/nodes", null, "system:kube-scheduler")
                            .statusCode()
                        == 200);
        HttpResponse<String> refused =
            send(
                http,
                "POST",
                base + "/apis/apps/v1/namespaces/default/deployments",
                "{\"metadata\":{\"name\":\"d\"}}",
                "system:kube-scheduler");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body())
            .contains(
                "deployments.apps is forbidden: User \\\"system:kube-scheduler\\\" cannot create"
                    + " resource \\\"deployments\\\" in API group \\\"apps\\\" in the namespace"
                    + " \\\"default\\\"");
        assertThat(out.toString(StandardCharsets.UTF_8))
            .contains("serving on http://127.0.0.1:" + apiPort)
            .doesNotContain("building");
      } finally {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
        }
        pump.join(10_000);
      }
    } finally {
      store.close();
    }
  }

  @Test
  void missingEtcdServersIsAUsageError() throws Exception {
    Process p =
        new ProcessBuilder(ROOT.resolve("bin/kubelite").toString(), "apiserver")
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("Missing required option: '--etcd-servers");
  }

  private static HttpResponse<String> send(
      HttpClient http, String method, String url, String json, String impersonate)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(5))
            .header("Impersonate-User", impersonate)
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}

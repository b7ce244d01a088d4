package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import dev.kubelite.store.testing.FreePorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * /healthz, /livez and /readyz follow the store: an API server started before its store is up
 * answers, but is not ready; it becomes ready (default namespaces created) once the store runs, and
 * not ready again when the store stops.
 */
class HealthTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(ApiServer api, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static StoreServer startStore(Path dir, int clientPort, int peerPort) throws Exception {
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    return StoreServer.start(
        MemberConfig.fromFlags(
            "m1",
            dir.resolve("store").toString(),
            client,
            client,
            peer,
            peer,
            null,
            null,
            "health-test"));
  }

  @Test
  void readyzFailsUntilTheStoreAnswersAndAgainWhenItStops() throws Exception {
    Path dir = Files.createTempDirectory("apiserver-health");
    int clientPort = FreePorts.next();
    int peerPort = FreePorts.next();
    KvStore store = RemoteKvStore.connect(List.of("127.0.0.1:" + clientPort));
    StoreServer member = null;
    try (ApiServer api = ApiServer.listen(store, new ApiServer.Options("127.0.0.1", 0))) {
      // No store yet: the process answers, but it is neither ready nor live.
      HttpResponse<String> ready = get(api, "/readyz");
      assertThat(ready.statusCode()).isEqualTo(500);
      assertThat(ready.headers().firstValue("Content-Type")).contains("text/plain; charset=utf-8");
      assertThat(ready.body())
          .contains("[+]ping ok\n")
          .contains("[-]etcd failed: reason withheld\n")
          .contains("[-]poststarthook/bootstrap-controller failed: reason withheld\n")
          .endsWith("readyz check failed\n");
      assertThat(get(api, "/livez").statusCode()).isEqualTo(500);
      assertThat(get(api, "/readyz/ping").body()).isEqualTo("ok");
      HttpResponse<String> one = get(api, "/readyz/etcd");
      assertThat(one.statusCode()).isEqualTo(500);
      assertThat(one.body()).startsWith("internal server error: ");
      assertThat(get(api, "/livez?exclude=etcd&exclude=poststarthook/bootstrap-controller").body())
          .isEqualTo("ok");

      member = startStore(dir, clientPort, peerPort);
      await().atMost(Duration.ofSeconds(60)).until(() -> get(api, "/readyz").statusCode() == 200);
      assertThat(get(api, "/readyz").body()).isEqualTo("ok");
      assertThat(get(api, "/healthz").body()).isEqualTo("ok");
      assertThat(get(api, "/readyz?verbose").body())
          .isEqualTo(
              "[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]poststarthook/bootstrap-controller ok\n"
                  + "readyz check passed\n");
      assertThat(get(api, "/livez?verbose&exclude=nope").body())
          .contains("warn: some health checks cannot be excluded: no matches for \"nope\"\n")
          .endsWith("livez check passed\n");
      assertThat(get(api, "/api/v1/namespaces/kube-system").statusCode()).isEqualTo(200);

      member.close();
      member = null;
      await().atMost(Duration.ofSeconds(30)).until(() -> get(api, "/readyz").statusCode() == 500);
      assertThat(get(api, "/readyz?verbose").body())
          .contains("[-]etcd failed: reason withheld\n")
          .contains("[+]poststarthook/bootstrap-controller ok\n");
    } finally {
      if (member != null) {
        member.close();
      }
      store.close();
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}

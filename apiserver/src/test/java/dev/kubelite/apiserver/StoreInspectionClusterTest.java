package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.client.RemoteKvStore;
import dev.kubelite.store.testing.LocalCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /kubelite/v1/store/status} of an API server whose store is a 3-member Kubelite
 * cluster, over gRPC to every member and embedded in one member (as in the stacked HA setup).
 */
class StoreInspectionClusterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path dir;

  private JsonNode status(ApiServer api) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + api.port() + "/kubelite/v1/store/status"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static List<String> names(JsonNode s) {
    List<String> out = new ArrayList<>();
    s.path("members").forEach(m -> out.add(m.path("name").asText()));
    return out;
  }

  @Test
  void threeMembersAndTheLeader() throws Exception {
    try (LocalCluster cluster = LocalCluster.of(dir, "inspect-test", 3).start()) {
      cluster.awaitAllPublished();
      int leader = cluster.awaitLeader();
      String leaderId = Long.toHexString(cluster.member(leader).memberId());
      int follower = (leader + 1) % 3;
      List<String> endpoints = IntStream.range(0, 3).mapToObj(cluster::endpoint).toList();
      try (KvStore remote = RemoteKvStore.connect(endpoints);
          KvStore embedded = EmbeddedKvStore.of(cluster.server(follower));
          ApiServer overGrpc = ApiServer.start(remote, new ApiServer.Options("127.0.0.1", 0));
          ApiServer inMember = ApiServer.start(embedded, new ApiServer.Options("127.0.0.1", 0))) {
        for (ApiServer api : List.of(overGrpc, inMember)) {
          JsonNode s = status(api);
          assertThat(names(s)).containsExactly("m0", "m1", "m2");
          assertThat(s.path("leader").asText()).isEqualTo(leaderId);
          int leaders = 0;
          for (JsonNode m : s.path("members")) {
            assertThat(m.has("error")).as(m.toString()).isFalse();
            assertThat(m.path("status").path("leader").asText()).isEqualTo(leaderId);
            assertThat(m.path("status").path("endpoint").asText())
                .isEqualTo(m.path("clientURLs").get(0).asText());
            if (m.path("isLeader").asBoolean()) {
              leaders++;
              assertThat(m.path("id").asText()).isEqualTo(leaderId);
              assertThat(m.path("name").asText()).isEqualTo(cluster.name(leader));
            }
          }
          assertThat(leaders).isEqualTo(1);
          assertThat(s.path("raftTerm").asLong()).isPositive();
          assertThat(s.path("revision").asLong()).isPositive();
        }
        JsonNode embeddedView = status(inMember);
        assertThat(embeddedView.path("answeredBy").asText())
            .isEqualTo(Long.toHexString(cluster.member(follower).memberId()));

        // A stopped member is listed with the reason its status is missing.
        int stopped = (leader + 2) % 3;
        cluster.stop(stopped);
        for (ApiServer api : List.of(overGrpc, inMember)) {
          JsonNode s =
              await()
                  .atMost(Duration.ofSeconds(20))
                  .until(
                      () -> status(api),
                      j -> {
                        JsonNode m = j.path("members").get(stopped);
                        return m.has("error");
                      });
          JsonNode m = s.path("members").get(stopped);
          assertThat(m.path("name").asText()).isEqualTo(cluster.name(stopped));
          assertThat(m.has("status")).isFalse();
          assertThat(m.path("error").asText()).contains("Status at " + cluster.clientUrl(stopped));
          assertThat(s.path("leader").asText()).isEqualTo(leaderId);
        }
      }
    }
  }
}

package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Answers are gzipped for a client that accepts it only above 128 KiB, as kube-apiserver does: a
 * small object goes as it is, a big list compressed.
 */
class ResponseCompressionTest {
  static ApiServerFixture api;
  static final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    api = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
    String big = "x".repeat(100 * 1024);
    for (int i = 0; i < 3; i++) {
      assertThat(
              api.post(
                      "/api/v1/namespaces/default/configmaps",
                      "{\"metadata\":{\"name\":\"big-"
                          + i
                          + "\"},\"data\":{\"v\":\""
                          + big
                          + "\"}}")
                  .code())
          .isEqualTo(201);
    }
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  private static HttpResponse<byte[]> gzipGet(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api.url() + path))
            .header("Accept-Encoding", "gzip")
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void aSmallAnswerIsNotCompressed() throws Exception {
    HttpResponse<byte[]> r = gzipGet("/api/v1/namespaces/default");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(ApiServerFixture.JSON.readTree(r.body()).path("kind").asText())
        .isEqualTo("Namespace");
  }

  @Test
  void aBigListIsGzipped() throws Exception {
    HttpResponse<byte[]> r = gzipGet("/api/v1/namespaces/default/configmaps");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Encoding")).hasValue("gzip");
    JsonNode list;
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(r.body()))) {
      list = ApiServerFixture.JSON.readTree(in);
    }
    assertThat(list.path("items")).hasSize(3);
    assertThat(r.body().length).isLessThan(100 * 1024);
  }
}

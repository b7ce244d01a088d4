package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Random bad input — mutated bodies, wrong content types, odd paths and query values — is always
 * answered with a 4xx Status (never a 5xx, never a hang) and never changes stored objects.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputFuzzTest {
  private ApiServerFixture f;

  @BeforeAll
  void start() throws Exception {
    f = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
    f.post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"fuzz\"}}");
    f.post(
        "/apis/apps/v1/namespaces/fuzz/deployments",
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
            + "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":"
            + "[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}");
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  static final List<String> SEEDS =
      List.of(
          "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"}},\"data\":{\"k\":\"v\"}}",
          "{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"$patch\":\"delete\"}]}}}}",
          "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":2}]",
          "{\"metadata\":{\"labels\":{\"a\":null}},\"$setElementOrder/containers\":[{\"name\":\"c\"}]}",
          "{\"propagationPolicy\":\"Background\",\"gracePeriodSeconds\":0}",
          "metadata:\n  name: y\ndata:\n  a: b\n",
          "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
              + "\"spec\":{\"replicas\":2,\"template\":{\"spec\":{\"containers\":"
              + "[{\"name\":\"c\",\"image\":\"nginx:2\"}]}}}}",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n");

  static final List<String> TYPES =
      List.of(
          "application/json",
          "application/yaml",
          "application/merge-patch+json",
          "application/strategic-merge-patch+json",
          "application/json-patch+json",
          "application/vnd.kubernetes.protobuf",
          "application/apply-patch+yaml",
          "application/apply-patch+yaml",
          "text/plain",
          "");

  static final List<String> PATHS =
      List.of(
          "/api/v1/namespaces/fuzz/configmaps",
          "/api/v1/namespaces/fuzz/configmaps/x",
          "/apis/apps/v1/namespaces/fuzz/deployments/web",
          "/apis/apps/v1/namespaces/fuzz/deployments/web/scale",
          "/apis/apps/v1/namespaces/fuzz/deployments/web/status",
          "/apis/apps/v1/namespaces/fuzz/deployments/web?fieldManager=fuzz",
          "/apis/apps/v1/namespaces/fuzz/deployments/web?fieldManager=fuzz&force=true",
          "/api/v1/namespaces/fuzz/configmaps/x?fieldManager=fuzz",
          "/api/v1/namespaces/fuzz/configmaps/x?force=",
          "/api/v1/namespaces/fuzz/pods/p/binding",
          "/api/v1/namespaces/fuzz",
          "/api/v1/nodes/n1",
          "/api/v1/namespaces/fuzz/configmaps?labelSelector=",
          "/api/v1/namespaces/fuzz/configmaps?fieldSelector=",
          "/api/v1/namespaces/fuzz/configmaps?limit=",
          "/api/v1/namespaces/fuzz/configmaps?continue=",
          "/api/v1/namespaces/fuzz/configmaps?watch=true&timeoutSeconds=1&resourceVersion=");

  static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");

  static final String NOISE = "{}[],:\"\\\u0000é$-";

  static String mutate(Random r, String s) {
    StringBuilder b = new StringBuilder(s);
    int edits = 1 + r.nextInt(4);
    for (int i = 0; i < edits && b.length() > 0; i++) {
      int at = r.nextInt(b.length());
      switch (r.nextInt(5)) {
        case 0 -> b.deleteCharAt(at);
        case 1 -> b.insert(at, NOISE.charAt(r.nextInt(NOISE.length())));
        case 2 -> b.setCharAt(at, (char) (32 + r.nextInt(95)));
        case 3 -> b.insert(at, b.substring(at, Math.min(b.length(), at + r.nextInt(20))));
        default -> b.setLength(at);
      }
    }
    return b.toString();
  }

  @Test
  void randomBadInputNeverYieldsA5xxOrAHang() throws Exception {
    for (long seed : new long[] {4242, 7, 99}) {
      fuzz(new Random(seed), 400);
    }
    // Mutated patches may not silently corrupt the deployment: whatever was accepted was valid.
    Response d = f.get("/apis/apps/v1/namespaces/fuzz/deployments/web");
    if (d.code() == 200) {
      assertThat(d.json().path("spec").path("template").path("spec").path("containers").size())
          .isGreaterThan(0);
    }
    assertThat(f.get("/readyz").code()).isEqualTo(200);
  }

  private void fuzz(Random r, int requests) throws Exception {
    for (int i = 0; i < requests; i++) {
      String method = METHODS.get(r.nextInt(METHODS.size()));
      String path = PATHS.get(r.nextInt(PATHS.size()));
      if (path.endsWith("=")) {
        path += java.net.URLEncoder.encode(mutate(r, "a in (b,c),d!=e"), StandardCharsets.UTF_8);
      }
      String type = TYPES.get(r.nextInt(TYPES.size()));
      String body = mutate(r, SEEDS.get(r.nextInt(SEEDS.size())));
      Response resp =
          f.request(
              method,
              path,
              type.isEmpty() ? null : type,
              body,
              r.nextBoolean() ? null : "application/json");
      assertThat(resp.code())
          .as("%s %s (%s) %s -> %s", method, path, type, body, resp.body())
          .isLessThan(500);
      if (resp.code() >= 400) {
        assertThat(resp.json().path("kind").asText()).as(resp.body()).isEqualTo("Status");
      }
    }
  }
}

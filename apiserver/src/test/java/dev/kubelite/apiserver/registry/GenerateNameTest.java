package dev.kubelite.apiserver.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A generated name that is taken is generated again, as kube-apiserver does (RetryGenerateName).
 */
class GenerateNameTest {
  @Test
  void aTakenGeneratedNameIsReplacedNotRefused() throws Exception {
    try (ApiServerFixture api = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED)) {
      String body = "{\"metadata\":{\"generateName\":\"web-\"},\"data\":{\"k\":\"v\"}}";
      api.api.registry().useNameRandom(new Random(42));
      Response first = api.post("/api/v1/namespaces/default/configmaps", body);
      assertThat(first.code()).as(first.body()).isEqualTo(201);
      // The same seed draws the same first name again: taken, so the server must draw another.
      api.api.registry().useNameRandom(new Random(42));
      Response second = api.post("/api/v1/namespaces/default/configmaps", body);
      assertThat(second.code()).as(second.body()).isEqualTo(201);
      String a = first.json().path("metadata").path("name").asText();
      String b = second.json().path("metadata").path("name").asText();
      assertThat(a).startsWith("web-").hasSize(9);
      assertThat(b).startsWith("web-").hasSize(9).isNotEqualTo(a);
    }
  }
}

package dev.kubelite.apiserver.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The cheap duplicate scan agrees with the full one. */
class DuplicateFieldsTest {

  private static void check(String json, boolean duplicates) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    assertThat(FieldSchema.hasDuplicateFields(b, Json.parseObject(b, false)))
        .as(json)
        .isEqualTo(duplicates);
    assertThat(FieldSchema.duplicateFields(b).isEmpty()).as(json).isEqualTo(!duplicates);
  }

  @Test
  void duplicatesAnywhereAreFound() {
    check("{\"a\":1,\"b\":{\"c\":[{\"d\":1,\"e\":2}]}}", false);
    check("{\"a\":1,\"a\":1}", true);
    check("{\"a\":{\"x\":1},\"a\":{\"y\":2}}", true);
    check("{\"a\":{\"x\":1,\"x\":{\"y\":2}}}", true);
    check("{\"a\":[{\"x\":1},{\"x\":1,\"x\":2}]}", true);
    check("{\"a\":[{\"x\":1},{\"x\":1}],\"b\":[[{\"c\":{}}]]}", false);
    check("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"metadata\":{\"name\":\"n\"}}}", false);
  }
}

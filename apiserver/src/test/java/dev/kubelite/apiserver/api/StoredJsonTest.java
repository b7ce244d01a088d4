package dev.kubelite.apiserver.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The stored JSON is the object's JSON without resourceVersion and selfLink, and splicing the
 * resourceVersion back gives exactly the JSON of the object read back (resourceVersion last in
 * metadata).
 */
class StoredJsonTest {
  private static final List<String> OBJECTS =
      List.of(
          "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\u00e9\","
              + "\"resourceVersion\":\"7\",\"selfLink\":\"/x\",\"labels\":{\"a\":\"b\\\"c}{\"},"
              + "\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":{\"f:metadata\":{\"f:labels\":"
              + "{\".\":{},\"f:a\":{}}}}}]},\"spec\":{\"containers\":[{\"name\":\"c\","
              + "\"resources\":{\"limits\":{\"cpu\":0.5,\"big\":123456789012345678901234567890,"
              + "\"n\":-3,\"l\":12345678901234,\"e\":1.5e300}},\"x\":null,\"t\":true,"
              + "\"s\":\"\\\\\",\"u\":\"\\u0001\\u2028\"}]}}",
          "{\"metadata\":{},\"spec\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",
          "{\"spec\":{\"metadata\":{}},\"metadata\":{\"name\":\"a\"}}",
          "{\"a\":\"\\\"metadata\\\":{\",\"metadata\":{\"name\":\"}\"}}",
          "{\"kind\":\"Namespace\",\"metadata\":{\"resourceVersion\":\"3\"}}");

  private static ObjectNode parse(String s) {
    return Json.parseObject(s.getBytes(StandardCharsets.UTF_8), false);
  }

  @Test
  void storedBytesAreTheObjectWithoutResourceVersionAndSelfLink() {
    for (String s : OBJECTS) {
      ObjectNode obj = parse(s);
      ObjectNode before = obj.deepCopy();
      ObjectNode copy = obj.deepCopy();
      Json.child(copy, "metadata").remove("resourceVersion");
      Json.child(copy, "metadata").remove("selfLink");
      assertThat(new String(Json.storedBytes(obj), StandardCharsets.UTF_8))
          .isEqualTo(Json.string(copy));
      assertThat(obj).isEqualTo(before);
    }
  }

  @Test
  void resourceVersionSplicedIntoStoredBytesIsTheReadBackObject() {
    for (String s : OBJECTS) {
      ObjectNode obj = parse(s);
      byte[] stored = Json.storedBytes(obj);
      ObjectNode read = Json.readStored(stored, "k");
      Json.child(read, "metadata").put("resourceVersion", "12345");
      assertThat(new String(Json.withResourceVersion(stored, "12345"), StandardCharsets.UTF_8))
          .isEqualTo(Json.string(read));
    }
  }

  @Test
  void noTopLevelMetadataObjectIsNoSplice() {
    for (String s :
        List.of(
            "{\"spec\":{\"metadata\":{}}}",
            "{\"metadata\":null}",
            "{\"metadata\":[]}",
            "{\"a\":\"metadata\"}",
            "[]",
            "{\"metadata\":{\"a\":\"unterminated",
            "{\"metadata\":{}}trailing",
            "{\"metadata\":{}}}",
            "{\"metadata\":{}",
            "")) {
      assertThat(Json.withResourceVersion(s.getBytes(StandardCharsets.UTF_8), "1")).isNull();
    }
  }
}

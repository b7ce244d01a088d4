package dev.kubelite.apiserver.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.FieldSelector;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.LabelSelector;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The watch cache's compact form answers selectors exactly as the parsed object does, and parses
 * back to the object it was made from.
 */
class CachedObjectTest {

  private static ObjectNode parse(String json) {
    return Json.parseObject(json.getBytes(StandardCharsets.UTF_8), false);
  }

  private static CachedObject cached(ObjectNode o) {
    return CachedObject.of(o, 42, Json.bytes(o));
  }

  @Test
  void everySelectableFieldOfEveryKindReadsAsFromTheTree() {
    ObjectNode[] objects = {
      parse(
          "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
              + "\"labels\":{\"app\":\"web\",\"n\":\"7\"}},\"spec\":{\"nodeName\":\"n1\","
              + "\"restartPolicy\":\"Always\",\"hostNetwork\":true},"
              + "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\"}}"),
      parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"bare\"},\"spec\":{\"nodeName\":null}}"),
      parse(
          "{\"kind\":\"Event\",\"metadata\":{\"name\":\"e\",\"namespace\":\"d\"},"
              + "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\",\"resourceVersion\":\"9\"},"
              + "\"reason\":\"Started\",\"source\":{\"component\":\"kubelet\"},\"type\":\"Normal\"}"),
      parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"unschedulable\":true}}"),
      parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n2\"},\"spec\":{\"unschedulable\":1}}"),
      parse("{\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\"}"),
      parse("{\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"r\"},\"status\":{\"replicas\":3}}"),
      parse("{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"d\"},\"status\":{\"phase\":\"x\"}}"),
    };
    for (ObjectNode o : objects) {
      CachedObject c = cached(o);
      for (String field : FieldSelector.selectable(o.path("kind").asText())) {
        assertThat(c.field(field)).as(field + " of " + o).isEqualTo(FieldSelector.value(o, field));
      }
      assertThat(c.labels()).isEqualTo(LabelSelector.labelsOf(o.path("metadata").path("labels")));
      assertThat(c.object()).isEqualTo(o);
      assertThat(c.object()).isNotSameAs(c.object()); // each caller's own tree
      assertThat(c.modRevision()).isEqualTo(42);
    }
    assertThat(cached(objects[0]).field("spec.hostNetwork")).isEqualTo("true");
    assertThat(cached(objects[4]).field("spec.unschedulable")).isEqualTo("false");
    assertThat(cached(objects[6]).field("status.replicas")).isEqualTo("3");
  }

  @Test
  void aFieldNotKeptForTheKindIsReadFromTheJson() {
    // A pod stored without its kind (not written by this server) keeps only name and namespace;
    // a selector on a pod field still sees the value.
    ObjectNode o =
        parse(
            "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\"},\"status\":{\"phase\":\"Failed\"}}");
    CachedObject c = cached(o);
    assertThat(c.field("status.phase")).isEqualTo("Failed");
    assertThat(c.field("spec.nodeName")).isEmpty();
    assertThat(FieldSelector.parse("status.phase=Failed,metadata.name=p", "Pod").matches(c::field))
        .isTrue();
    assertThat(FieldSelector.parse("status.phase!=Failed", "Pod").matches(c::field)).isFalse();
    assertThat(c.labels()).isEqualTo(Map.of());
  }

  @Test
  void labelValuesThatAreNotStringsReadAsText() {
    ObjectNode o = parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":1}}}");
    assertThat(cached(o).labels()).isEqualTo(Map.of("a", "1"));
    assertThat(LabelSelector.parse("a=1").matches(cached(o).labels())).isTrue();
  }

  @Test
  void aSkeletonKeepsExactlyWhatSelectorsReadAsTheFullParseGivesIt() {
    String[] values = {
      "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
          + "\"labels\":{\"app\":\"web\",\"n\":7,\"f\":1.50},\"managedFields\":[{\"f:x\":{}}]},"
          + "\"spec\":{\"containers\":[{\"name\":\"c\"}],\"nodeName\":\"n1\",\"hostNetwork\":true},"
          + "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\"}]}}",
      // Repeated names: the last wins, as in a parse.
      "{\"metadata\":{\"name\":\"a\"},\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"},"
          + "\"spec\":{\"nodeName\":\"x\",\"nodeName\":\"y\"}}",
      // Values that are not objects where objects are expected, nulls, numbers.
      "{\"kind\":\"Pod\",\"metadata\":5,\"spec\":\"s\",\"status\":{\"phase\":null}}",
      "{\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"r\",\"labels\":null},"
          + "\"status\":{\"replicas\":1e2}}",
      "{\"kind\":\"Event\",\"metadata\":{\"name\":\"e\"},\"source\":{\"component\":\"k\","
          + "\"host\":\"h\"},\"involvedObject\":{\"name\":\"p\",\"uid\":\"u\"},\"type\":\"Normal\"}",
      "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"resourceVersion\":\"3\"},"
          + "\"spec\":{\"unschedulable\":false}}",
    };
    for (String v : values) {
      ObjectNode full = parse(v);
      ObjectNode skeleton = CachedObject.skeleton(v.getBytes(StandardCharsets.UTF_8));
      assertThat(skeleton).as(v).isNotNull();
      CachedObject a = CachedObject.of(full, 1, Json.bytes(full));
      CachedObject b = CachedObject.of(skeleton, 1, Json.bytes(full));
      assertThat(b.labels()).as(v).isEqualTo(a.labels());
      for (String field : FieldSelector.selectable(full.path("kind").asText())) {
        assertThat(b.field(field)).as(field + " of " + v).isEqualTo(a.field(field));
      }
      assertThat(skeleton.path("metadata").has("resourceVersion"))
          .isEqualTo(full.path("metadata").has("resourceVersion"));
      assertThat(skeleton.has("managedFields")).isFalse();
      assertThat(skeleton.path("spec").has("containers")).isFalse();
    }
    assertThat(CachedObject.skeleton("{\"a\":1} {}".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(CachedObject.skeleton("{\"a\":[1,}".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(CachedObject.skeleton("[1]".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(CachedObject.skeleton("".getBytes(StandardCharsets.UTF_8))).isNull();
  }
}

package dev.kubelite.apiserver.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.Json;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The shared watch line is exactly what serialising the event for one watcher gives. */
class ObjectEventTest {

  @Test
  void watchLineIsTheSerialisedEventAndIsComputedOnce() {
    ObjectNode pod =
        Json.parseObject(
            ("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\u00e9\","
                    + "\"resourceVersion\":\"7\",\"labels\":{\"a\":\"b\\\"c\"}},\"spec\":{}}")
                .getBytes(StandardCharsets.UTF_8),
            false);
    ObjectEvent e =
        new ObjectEvent(
            ObjectEvent.Type.PUT,
            "/registry/pods/d/p",
            CachedObject.of(pod, 7, Json.bytes(pod)),
            null,
            7);
    for (String type : new String[] {"ADDED", "MODIFIED", "DELETED"}) {
      ObjectNode event = Json.object();
      event.put("type", type);
      event.set("object", pod);
      assertThat(new String(e.watchLine(type), StandardCharsets.UTF_8))
          .isEqualTo(Json.string(event) + "\n");
      assertThat(e.watchLine(type)).isSameAs(e.watchLine(type));
    }
    assertThatThrownBy(() -> e.watchLine("BOOKMARK")).isInstanceOf(IllegalArgumentException.class);
  }
}

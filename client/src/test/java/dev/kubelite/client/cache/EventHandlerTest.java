package dev.kubelite.client.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventHandlerTest {
  private static ObjectNode obj(String name) {
    ObjectNode o = KubeClient.JSON.createObjectNode();
    o.putObject("metadata").put("name", name);
    return o;
  }

  @Test
  void onAddOrUpdateSeesAddsAndNewVersionsButNotDeletes() {
    List<ObjectNode> seen = new ArrayList<>();
    EventHandler h = EventHandler.onAddOrUpdate(seen::add);
    h.onAdd(obj("a"));
    h.onUpdate(obj("old"), obj("new"));
    h.onDelete(obj("gone"));
    assertThat(seen).containsExactly(obj("a"), obj("new"));
  }

  @Test
  void onAnyChangeSeesDeletesToo() {
    List<ObjectNode> seen = new ArrayList<>();
    EventHandler h = EventHandler.onAnyChange(seen::add);
    h.onAdd(obj("a"));
    h.onUpdate(obj("old"), obj("new"));
    h.onDelete(obj("gone"));
    assertThat(seen).containsExactly(obj("a"), obj("new"), obj("gone"));
  }
}

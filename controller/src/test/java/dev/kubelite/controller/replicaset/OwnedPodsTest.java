package dev.kubelite.controller.replicaset;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OwnedPodsTest {
  private final OwnedPods index = new OwnedPods();

  private static ObjectNode pod(String name, String owner, String app, boolean ready) {
    ObjectNode p = KubeClient.JSON.createObjectNode();
    ObjectNode meta = p.putObject("metadata").put("name", name).put("namespace", "ns");
    meta.putObject("labels").put("app", app);
    if (owner != null) {
      meta.putArray("ownerReferences")
          .addObject()
          .put("kind", "ReplicaSet")
          .put("name", "rs")
          .put("uid", owner)
          .put("controller", true);
    }
    ObjectNode status = p.putObject("status").put("phase", ready ? "Running" : "Pending");
    status
        .putArray("conditions")
        .addObject()
        .put("type", "Ready")
        .put("status", ready ? "True" : "False");
    return p;
  }

  private Map<Map<String, String>, List<Integer>> groups(String owner) {
    return index.groups(owner).stream()
        .collect(
            java.util.stream.Collectors.toMap(
                OwnedPods.GroupView::labels, g -> List.of(g.size(), g.ready())));
  }

  @Test
  void countsFollowAddsUpdatesAndDeletes() {
    index.put(pod("a", "u1", "web", false));
    index.put(pod("b", "u1", "web", true));
    index.put(pod("c", "u2", "web", true));
    index.put(pod("orphan", null, "web", true));
    assertThat(groups("u1")).isEqualTo(Map.of(Map.of("app", "web"), List.of(2, 1)));
    assertThat(groups("u2")).isEqualTo(Map.of(Map.of("app", "web"), List.of(1, 1)));

    // Becomes ready: counted once, not twice.
    index.put(pod("a", "u1", "web", true));
    index.put(pod("a", "u1", "web", true));
    assertThat(groups("u1")).isEqualTo(Map.of(Map.of("app", "web"), List.of(2, 2)));

    // Relabelled: moves to its own group (the selector decides on it separately).
    index.put(pod("b", "u1", "debug", true));
    assertThat(groups("u1"))
        .isEqualTo(
            Map.of(Map.of("app", "web"), List.of(1, 1), Map.of("app", "debug"), List.of(1, 1)));

    // Released (no controller any more), being deleted or finished: no longer kept.
    index.put(pod("b", null, "debug", true));
    ObjectNode deleting = pod("a", "u1", "web", true);
    ((ObjectNode) deleting.get("metadata")).put("deletionTimestamp", "2026-11-22T00:00:00Z");
    index.put(deleting);
    assertThat(index.groups("u1")).isEmpty();
    assertThat(index.count("u1")).isZero();

    ObjectNode done = pod("c", "u2", "web", false);
    ((ObjectNode) done.get("status")).put("phase", "Succeeded");
    index.put(done);
    assertThat(index.groups("u2")).isEmpty();

    // Back again, then deleted.
    index.put(pod("c", "u2", "web", true));
    assertThat(index.pods(index.groups("u2").get(0))).hasSize(1);
    index.remove("ns/c");
    index.remove("ns/c");
    index.remove("ns/never-seen");
    assertThat(index.groups("u2")).isEmpty();
  }
}

package dev.kubelite.client.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import org.junit.jupiter.api.Test;

class IndexerTest {
  static ObjectNode pod(String ns, String name, String node) {
    ObjectNode p = KubeClient.JSON.createObjectNode();
    p.putObject("metadata").put("namespace", ns).put("name", name);
    if (node != null) {
      p.putObject("spec").put("nodeName", node);
    }
    return p;
  }

  @Test
  void podsByNodeFollowUpdatesAndDeletes() {
    Indexer ix = new Indexer();
    ix.put(pod("a", "p0", "n1"));
    ix.addIndex("node", Indexer.field("spec", "nodeName"));
    ix.put(pod("a", "p1", "n1"));
    ix.put(pod("b", "p2", null));
    assertThat(ix.byIndex("node", "n1"))
        .extracting(Meta::key)
        .containsExactlyInAnyOrder("a/p0", "a/p1");
    ix.put(pod("a", "p1", "n2")); // moved
    assertThat(ix.byIndex("node", "n1")).extracting(Meta::key).containsExactly("a/p0");
    assertThat(ix.byIndex("node", "n2")).extracting(Meta::key).containsExactly("a/p1");
    ix.put(pod("b", "p2", "n2")); // bound
    assertThat(ix.byIndex("node", "n2")).hasSize(2);
    assertThat(ix.remove("a/p1")).isNotNull();
    assertThat(ix.byIndex("node", "n2")).extracting(Meta::key).containsExactly("b/p2");
    assertThat(ix.byIndex(Indexer.NAMESPACE, "a")).extracting(Meta::key).containsExactly("a/p0");
    assertThat(ix.get("b", "p2")).isNotNull();
    assertThat(ix.size()).isEqualTo(2);
    assertThatThrownBy(() -> ix.byIndex("nope", "x")).hasMessageContaining("no index named nope");
    assertThatThrownBy(() -> ix.addIndex("node", Indexer.field("x")))
        .hasMessageContaining("exists");
  }
}

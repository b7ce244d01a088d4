package dev.kubelite.scheduler.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import org.junit.jupiter.api.Test;

class SchedulerCacheTest {
  private static ObjectNode node(String name) {
    ObjectNode n = KubeClient.JSON.createObjectNode();
    n.putObject("metadata").put("name", name);
    n.putObject("status")
        .putObject("allocatable")
        .put("cpu", "1")
        .put("memory", "1Gi")
        .put("pods", "10");
    return n;
  }

  private static PodInfo pod(String name, String node) {
    ObjectNode p = KubeClient.JSON.createObjectNode();
    p.putObject("metadata").put("name", name).put("namespace", "default");
    ObjectNode spec = p.putObject("spec");
    spec.putArray("containers")
        .addObject()
        .putObject("resources")
        .putObject("requests")
        .put("cpu", "300m");
    if (node != null) {
      spec.put("nodeName", node);
    }
    return PodInfo.of(p);
  }

  private static long cpu(SchedulerCache c, String node) {
    return c.node(node).requested().milliCpu();
  }

  @Test
  void assumedPodsCountUntilForgottenOrConfirmed() {
    SchedulerCache c = new SchedulerCache();
    c.addNode(node("n1"));
    c.addNode(node("n2"));
    c.assume(pod("a", null), "n1");
    assertThat(c.isAssumed("default/a")).isTrue();
    assertThat(cpu(c, "n1")).isEqualTo(300);
    c.forget("default/a");
    assertThat(cpu(c, "n1")).isZero();
    assertThat(c.hasPod("default/a")).isFalse();

    c.assume(pod("b", null), "n1");
    c.addPod(pod("b", "n1")); // the informer shows it bound: confirmed, counted once
    assertThat(c.isAssumed("default/b")).isFalse();
    assertThat(cpu(c, "n1")).isEqualTo(300);
    c.forget("default/b"); // a confirmed pod is not forgotten
    assertThat(cpu(c, "n1")).isEqualTo(300);

    c.assume(pod("d", null), "n1");
    c.addPod(pod("d", "n2")); // bound elsewhere (another scheduler): moved
    assertThat(cpu(c, "n1")).isEqualTo(300);
    assertThat(cpu(c, "n2")).isEqualTo(300);
    c.removePod("default/d");
    assertThat(cpu(c, "n2")).isZero();
  }

  @Test
  void podsSeenBeforeTheirNodeAndNodesRemovedWithPods() {
    SchedulerCache c = new SchedulerCache();
    c.addPod(pod("early", "n1"));
    assertThat(c.snapshot()).isEmpty(); // no node object yet
    c.addNode(node("n1"));
    assertThat(c.snapshot()).extracting(NodeInfo::name).containsExactly("n1");
    assertThat(cpu(c, "n1")).isEqualTo(300);
    c.updateNode(node("n1"));
    assertThat(cpu(c, "n1")).isEqualTo(300);
    c.removeNode("n1");
    assertThat(c.snapshot()).isEmpty();
    c.removePod("default/early");
    assertThat(c.node("n1")).isNull();
  }

  private static PodInfo owned(String name, String node, String owner) {
    ObjectNode p = pod(name, node).pod().deepCopy();
    ((ObjectNode) p.get("metadata"))
        .putArray("ownerReferences")
        .addObject()
        .put("kind", "ReplicaSet")
        .put("name", owner)
        .put("uid", new String(owner + "-uid")) // a fresh instance, as parsed JSON gives
        .put("controller", true);
    return PodInfo.of(p);
  }

  @Test
  void ownerCountsFollowPodDeletesUpdatesAndNodeRemoval() {
    SchedulerCache c = new SchedulerCache();
    c.addNode(node("n1"));
    c.addNode(node("n2"));
    c.addPod(owned("a", "n1", "rs1"));
    c.addPod(owned("b", "n1", "rs1"));
    c.assume(owned("c", "n1", "rs2"), "n1");
    assertThat(c.node("n1").podsOfController("rs1-uid")).isEqualTo(2);
    assertThat(c.node("n1").podsOfController("rs2-uid")).isEqualTo(1);
    // Updated (seen again), then confirmed: still counted once.
    c.addPod(owned("a", "n1", "rs1"));
    c.addPod(owned("c", "n1", "rs2"));
    assertThat(c.node("n1").podsOfController("rs1-uid")).isEqualTo(2);
    assertThat(c.node("n1").podsOfController("rs2-uid")).isEqualTo(1);
    // Its controller changed (released and adopted by another).
    c.addPod(owned("b", "n1", "rs2"));
    assertThat(c.node("n1").podsOfController("rs1-uid")).isEqualTo(1);
    assertThat(c.node("n1").podsOfController("rs2-uid")).isEqualTo(2);
    // Deleted; an assumption forgotten.
    c.removePod("default/a");
    c.assume(owned("d", "n2", "rs1"), "n2");
    assertThat(c.node("n2").podsOfController("rs1-uid")).isEqualTo(1);
    c.forget("default/d");
    assertThat(c.node("n1").podsOfController("rs1-uid")).isZero();
    assertThat(c.node("n2").podsOfController("rs1-uid")).isZero();
    // The node goes: its pods stay counted (placeholder) until the informer removes them, and a
    // node of that name coming back finds them.
    c.removeNode("n1");
    assertThat(c.snapshot()).extracting(NodeInfo::name).containsExactly("n2");
    assertThat(c.node("n1").podsOfController("rs2-uid")).isEqualTo(2);
    c.addNode(node("n1"));
    assertThat(c.node("n1").podsOfController("rs2-uid")).isEqualTo(2);
    c.removePod("default/b");
    c.removePod("default/c");
    assertThat(c.node("n1").podsOfController("rs2-uid")).isZero();
    assertThat(c.node("n1").podCount()).isZero();
  }

  @Test
  void incrementalSnapshotMatchesAFullOneAfterEveryChange() {
    SchedulerCache c = new SchedulerCache();
    java.util.Random r = new java.util.Random(42);
    SchedulerCache.Snapshot s = c.newSnapshot();
    for (int step = 0; step < 5000; step++) {
      String n = "n" + r.nextInt(8);
      String p = "p" + r.nextInt(40);
      switch (r.nextInt(7)) {
        case 0 -> c.addNode(node(n));
        case 1 -> c.removeNode(n);
        case 2 -> c.assume(pod(p, null), n);
        case 3 -> c.forget("default/" + p);
        case 4 -> c.addPod(pod(p, n));
        case 5 -> c.removePod("default/" + p);
        default -> c.updateNode(node(n));
      }
      if (r.nextInt(3) > 0) {
        c.updateSnapshot(s);
        java.util.List<NodeInfo> full = c.snapshot();
        assertThat(s.nodes()).as("after step %d", step).hasSameSizeAs(full);
        for (int i = 0; i < full.size(); i++) {
          assertThat(s.nodes().get(i)).as("node %d after step %d", i, step).isSameAs(full.get(i));
        }
      }
    }
  }
}

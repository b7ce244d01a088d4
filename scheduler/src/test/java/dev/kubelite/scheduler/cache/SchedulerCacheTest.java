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
}

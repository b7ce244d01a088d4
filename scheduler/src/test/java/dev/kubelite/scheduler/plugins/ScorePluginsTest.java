package dev.kubelite.scheduler.plugins;

import static dev.kubelite.scheduler.plugins.Objects.json;
import static dev.kubelite.scheduler.plugins.Objects.node;
import static dev.kubelite.scheduler.plugins.Objects.pod;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.scheduler.framework.Framework;
import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ScorePluginsTest {
  @Test
  void leastAllocatedPrefersRoom() {
    LeastAllocated la = new LeastAllocated();
    // cpu: (4000-1000)/4000 = 75, memory: (4Gi-1Gi)/4Gi = 75.
    assertThat(la.score(pod("p", "1", "1Gi"), node("n", "4", "4Gi"))).isEqualTo(75);
    NodeInfo busy = node("n", "4", "4Gi").withPod(pod("q", "2", "2Gi"));
    assertThat(la.score(pod("p", "1", "1Gi"), busy)).isEqualTo(25);
    assertThat(la.score(pod("p", "8", "1Gi"), node("n", "4", "4Gi"))).isEqualTo(37); // (0 + 75) / 2
  }

  @Test
  void balancedAllocationPrefersEqualFractions() {
    BalancedAllocation ba = new BalancedAllocation();
    assertThat(ba.score(pod("p", "2", "2Gi"), node("n", "4", "4Gi"))).isEqualTo(100);
    // cpu 0.75, memory 0.25: deviation 0.25 → 75.
    assertThat(ba.score(pod("p", "3", "1Gi"), node("n", "4", "4Gi"))).isEqualTo(75);
  }

  @Test
  void ownerSpreadNormalizesByTheBusiestNode() {
    OwnerSpread s = new OwnerSpread();
    String owner = "'metadata':{'ownerReferences':[{'uid':'rs','controller':true}]}";
    PodInfo mine = owned("m0");
    NodeInfo a = node("a", "4", "4Gi").withPod(owned("m1")).withPod(owned("m2"));
    NodeInfo b = node("b", "4", "4Gi").withPod(owned("m3"));
    NodeInfo c = node("c", "4", "4Gi");
    List<NodeInfo> nodes = List.of(a, b, c);
    long[] raw = {s.score(mine, a), s.score(mine, b), s.score(mine, c)};
    assertThat(raw).containsExactly(2, 1, 0);
    s.normalize(mine, nodes, raw);
    assertThat(raw).containsExactly(0, 50, 100);
    long[] none = {s.score(pod("x", "1", "1Gi"), a), 0, 0};
    s.normalize(pod("x", "1", "1Gi"), nodes, none);
    assertThat(none).containsExactly(100, 100, 100);
    assertThat(owner).isNotEmpty();
    // Removing the pods takes them out of the count.
    assertThat(a.withoutPod("default/m1").podsOfController("rs")).isEqualTo(1);
  }

  private static PodInfo owned(String name) {
    return PodInfo.of(
        json(
            "{'metadata':{'name':'"
                + name
                + "','namespace':'default','ownerReferences':[{'uid':'rs','controller':true}]},"
                + "'spec':{'containers':[{'resources':{'requests':{'cpu':'100m','memory':'64Mi'}}}]}}"));
  }

  @Test
  void frameworkSpreadsOwnersOverLeastAllocatedAndBreaksTiesAtRandom() {
    Framework f = DefaultPlugins.framework(new Random(7));
    NodeInfo big = node("big", "16", "16Gi").withPod(owned("m1"));
    NodeInfo small = node("small", "2", "2Gi");
    // Least-allocated prefers big, but it already runs a pod of the same owner.
    Framework.Decision d = f.schedule(owned("m2"), List.of(big, small));
    assertThat(d.node()).isEqualTo("small");
    assertThat(d.feasible()).isEqualTo(2);
    assertThat(d.scores()).containsEntry("OwnerSpread", 100L);
    // Without an owner, resources decide.
    assertThat(f.schedule(pod("x", "100m", "64Mi"), List.of(big, small)).node()).isEqualTo("big");
    // Equal nodes: every one is picked some of the time.
    Map<String, Integer> picks = new HashMap<>();
    List<NodeInfo> same =
        List.of(node("a", "4", "4Gi"), node("b", "4", "4Gi"), node("c", "4", "4Gi"));
    for (int i = 0; i < 300; i++) {
      picks.merge(f.schedule(pod("x", "100m", "64Mi"), same).node(), 1, Integer::sum);
    }
    assertThat(picks.keySet()).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(picks.values()).allMatch(n -> n > 50);
  }

  @Test
  void frameworkReportsTheFirstFailingFilterPerNode() {
    Framework f = DefaultPlugins.framework(new Random(1));
    NodeInfo tainted =
        node(
            "t",
            "1",
            "1Gi",
            "'spec':{'unschedulable':true,'taints':[{'key':'k','effect':'NoSchedule'}]}");
    NodeInfo small = node("s", "1", "1Gi");
    Framework.Decision d = f.schedule(pod("p", "2", "64Mi"), List.of(tainted, small));
    assertThat(d.node()).isNull();
    assertThat(d.failure())
        .isEqualTo("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable.");
    assertThat(f.schedule(pod("p", "2", "64Mi"), List.of()).failure())
        .isEqualTo("no nodes available to schedule pods");
  }

  @Test
  void largeClustersStopFilteringOnceEnoughNodesFitAndRotate() {
    assertThat(Framework.feasibleNodesToFind(50)).isEqualTo(50);
    assertThat(Framework.feasibleNodesToFind(200)).isEqualTo(100);
    assertThat(Framework.feasibleNodesToFind(1000)).isEqualTo(420);
    assertThat(Framework.feasibleNodesToFind(5000)).isEqualTo(500);
    Framework f = DefaultPlugins.framework(new Random(3));
    List<NodeInfo> nodes = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      nodes.add(node("n" + i, "4", "4Gi"));
    }
    Framework.Decision d = f.schedule(pod("p", "100m", "64Mi"), nodes);
    assertThat(d.feasible()).isEqualTo(420);
    assertThat(d.evaluated()).isEqualTo(420);
    assertThat(d.allNodes()).isEqualTo(1000);
    // The next cycle starts where this one stopped: a node beyond the first 420 can win.
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < 5; i++) {
      seen.merge(f.schedule(pod("p", "100m", "64Mi"), nodes).node(), 1, Integer::sum);
    }
    assertThat(
            seen.keySet().stream().mapToInt(s -> Integer.parseInt(s.substring(1))).max().getAsInt())
        .isGreaterThanOrEqualTo(420);
  }
}

package dev.kubelite.scheduler.plugins;

import static dev.kubelite.scheduler.plugins.Objects.json;
import static dev.kubelite.scheduler.plugins.Objects.node;
import static dev.kubelite.scheduler.plugins.Objects.pod;
import static dev.kubelite.scheduler.plugins.Objects.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.scheduler.framework.NodeInfo;
import dev.kubelite.scheduler.framework.PodInfo;
import dev.kubelite.scheduler.framework.Resources;
import org.junit.jupiter.api.Test;

class FilterPluginsTest {
  private final TaintToleration taints = new TaintToleration();
  private final NodeAffinity affinity = new NodeAffinity();
  private final NodeResourcesFit fit = new NodeResourcesFit();

  @Test
  void podRequestsAddContainersTakeTheLargestInitContainerAndDefaultToLimits() {
    PodInfo p =
        PodInfo.of(
            json(
                "{'metadata':{'name':'p','namespace':'d','ownerReferences':[{'uid':'x','controller':false},"
                    + "{'uid':'rs-1','controller':true}]},'spec':{"
                    + "'containers':[{'resources':{'requests':{'cpu':'250m','memory':'64Mi'}}},"
                    + "{'resources':{'limits':{'cpu':'1','memory':'1Gi'},'requests':{'memory':'128Mi'}}}],"
                    + "'initContainers':[{'resources':{'requests':{'cpu':'2'}}}],"
                    + "'overhead':{'cpu':'10m'}}}"));
    assertThat(p.requests()).isEqualTo(new Resources(2010, 192L << 20, 1));
    assertThat(p.controllerUid()).isEqualTo("rs-1");
    PodInfo none = pod("n", null, null);
    assertThat(none.requests()).isEqualTo(new Resources(0, 0, 1));
    assertThat(none.nonZeroRequests()).isEqualTo(new Resources(100, 200L << 20, 1));
  }

  @Test
  void taintsNeedTolerations() {
    NodeInfo n =
        node(
            "n",
            "1",
            "1Gi",
            "'spec':{'taints':[{'key':'a','value':'x','effect':'NoSchedule'},"
                + "{'key':'soft','effect':'PreferNoSchedule'},{'key':'b','effect':'NoExecute'}]}");
    assertThat(taints.filter(spec(""), n)).containsExactly("node(s) had untolerated taint {a: x}");
    assertThat(taints.filter(spec("'tolerations':[{'key':'a','value':'x'}]"), n))
        .containsExactly("node(s) had untolerated taint {b: }");
    assertThat(
            taints.filter(
                spec(
                    "'tolerations':[{'key':'a','operator':'Equal','value':'x','effect':'NoSchedule'},"
                        + "{'key':'b','operator':'Exists'}]"),
                n))
        .isEmpty();
    // Wrong value, wrong effect, Equal against a missing value: not tolerated.
    assertThat(
            taints.filter(
                spec("'tolerations':[{'key':'a','value':'y'},{'key':'b','operator':'Exists'}]"), n))
        .isNotEmpty();
    assertThat(
            taints.filter(
                spec(
                    "'tolerations':[{'key':'a','operator':'Exists','effect':'NoExecute'},{'key':'b','operator':'Exists'}]"),
                n))
        .isNotEmpty();
    // An empty key with Exists tolerates all; an empty key with Equal tolerates nothing.
    assertThat(taints.filter(spec("'tolerations':[{'operator':'Exists'}]"), n)).isEmpty();
    assertThat(
            taints.filter(spec("'tolerations':[{'operator':'Exists','effect':'NoSchedule'}]"), n))
        .containsExactly("node(s) had untolerated taint {b: }");
    assertThat(taints.filter(spec("'tolerations':[{'value':'x'}]"), n)).isNotEmpty();
  }

  @Test
  void unschedulableAndReady() {
    NodeInfo cordoned = node("n", "1", "1Gi", "'spec':{'unschedulable':true}");
    assertThat(new NodeUnschedulable().filter(spec(""), cordoned))
        .containsExactly("node(s) were unschedulable");
    assertThat(
            new NodeUnschedulable()
                .filter(
                    spec(
                        "'tolerations':[{'key':'node.kubernetes.io/unschedulable','operator':'Exists','effect':'NoSchedule'}]"),
                    cordoned))
        .isEmpty();
    NodeReady ready = new NodeReady();
    assertThat(ready.filter(spec(""), node("n", "1", "1Gi"))).isEmpty();
    NodeInfo unknown =
        NodeInfo.of(
            json(
                "{'metadata':{'name':'u'},'status':{'conditions':[{'type':'Ready','status':'Unknown'}]}}"));
    assertThat(ready.filter(spec(""), unknown)).containsExactly("node(s) were not ready");
    NodeInfo noConditions = NodeInfo.of(json("{'metadata':{'name':'u'}}"));
    assertThat(ready.filter(spec(""), noConditions)).containsExactly("node(s) were not ready");
  }

  @Test
  void nodeSelectorAndAffinityOperators() {
    NodeInfo n =
        NodeInfo.of(
            json("{'metadata':{'name':'n1','labels':{'zone':'a','gen':'5','disk':'ssd'}}}"));
    assertThat(affinity.filter(spec("'nodeSelector':{'zone':'a','disk':'ssd'}"), n)).isEmpty();
    assertThat(affinity.filter(spec("'nodeSelector':{'zone':'b'}"), n))
        .containsExactly("node(s) didn't match Pod's node affinity/selector");
    assertThat(affinity.filter(spec("'nodeSelector':{'missing':'x'}"), n)).isNotEmpty();
    assertThat(matches(n, "{'key':'zone','operator':'In','values':['a','b']}")).isTrue();
    assertThat(matches(n, "{'key':'zone','operator':'In','values':['b']}")).isFalse();
    assertThat(matches(n, "{'key':'nope','operator':'In','values':['a']}")).isFalse();
    assertThat(matches(n, "{'key':'zone','operator':'NotIn','values':['b']}")).isTrue();
    assertThat(matches(n, "{'key':'nope','operator':'NotIn','values':['b']}")).isTrue();
    assertThat(matches(n, "{'key':'zone','operator':'NotIn','values':['a']}")).isFalse();
    assertThat(matches(n, "{'key':'disk','operator':'Exists'}")).isTrue();
    assertThat(matches(n, "{'key':'nope','operator':'Exists'}")).isFalse();
    assertThat(matches(n, "{'key':'nope','operator':'DoesNotExist'}")).isTrue();
    assertThat(matches(n, "{'key':'disk','operator':'DoesNotExist'}")).isFalse();
    assertThat(matches(n, "{'key':'gen','operator':'Gt','values':['4']}")).isTrue();
    assertThat(matches(n, "{'key':'gen','operator':'Gt','values':['5']}")).isFalse();
    assertThat(matches(n, "{'key':'gen','operator':'Lt','values':['6']}")).isTrue();
    assertThat(matches(n, "{'key':'gen','operator':'Lt','values':['5']}")).isFalse();
    assertThat(matches(n, "{'key':'zone','operator':'Gt','values':['1']}")).isFalse();
    assertThat(matches(n, "{'key':'gen','operator':'Gt','values':['x']}")).isFalse();
    assertThat(matches(n, "{'key':'gen','operator':'Gt','values':['1','2']}")).isFalse();
    assertThat(matches(n, "{'key':'gen','operator':'Like','values':['5']}")).isFalse();
    // matchFields on metadata.name.
    assertThat(
            affinity.filter(
                spec(
                    affinityOf(
                        "{'matchFields':[{'key':'metadata.name','operator':'In','values':['n1']}]}")),
                n))
        .isEmpty();
    // No terms, or an empty term: matches nothing.
    assertThat(affinity.filter(spec(affinityOf("")), n)).isNotEmpty();
    assertThat(affinity.filter(spec(affinityOf("{}")), n)).isNotEmpty();
    // Terms are ORed.
    assertThat(
            affinity.filter(
                spec(
                    affinityOf(
                        "{'matchExpressions':[{'key':'zone','operator':'In','values':['x']}]},"
                            + "{'matchExpressions':[{'key':'zone','operator':'In','values':['a']},"
                            + "{'key':'disk','operator':'Exists'}]}")),
                n))
        .isEmpty();
  }

  @Test
  void onlyPodsThatSelectNodesHaveTheirNodesRead() {
    NodeInfo unlabelled = NodeInfo.of(json("{'metadata':{'name':'n1'}}"));
    assertThat(spec("").selectsNodes()).isFalse();
    assertThat(spec("'nodeSelector':{}").selectsNodes()).isFalse();
    assertThat(
            spec("'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':"
                    + "[{'weight':1,'preference':{'matchExpressions':[{'key':'zone','operator':'Exists'}]}}]}}")
                .selectsNodes())
        .isFalse();
    assertThat(affinity.filter(spec("'nodeSelector':{}"), unlabelled)).isEmpty();
    assertThat(spec("'nodeSelector':{'zone':'a'}").selectsNodes()).isTrue();
    assertThat(spec(affinityOf("")).selectsNodes()).isTrue();
    // A required affinity without terms is still read: it matches no node.
    assertThat(affinity.filter(spec(affinityOf("")), unlabelled)).isNotEmpty();
  }

  private boolean matches(NodeInfo n, String expr) {
    return affinity.filter(spec(affinityOf("{'matchExpressions':[" + expr + "]}")), n).isEmpty();
  }

  private static String affinityOf(String terms) {
    return "'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':["
        + terms
        + "]}}}";
  }

  @Test
  void resourcesFitAgainstAllocatableMinusPodsOnTheNode() {
    NodeInfo n = node("n", "1", "1Gi");
    assertThat(fit.filter(pod("a", "600m", "512Mi"), n)).isEmpty();
    n = n.withPod(pod("a", "600m", "512Mi"));
    assertThat(fit.filter(pod("b", "400m", "512Mi"), n)).isEmpty();
    assertThat(fit.filter(pod("b", "401m", "100Mi"), n)).containsExactly("Insufficient cpu");
    assertThat(fit.filter(pod("b", "100m", "513Mi"), n)).containsExactly("Insufficient memory");
    assertThat(fit.filter(pod("b", "2", "2Gi"), n))
        .containsExactly("Insufficient cpu", "Insufficient memory");
    // A pod without requests only needs a pod slot.
    assertThat(fit.filter(pod("c", null, null), n.withPod(pod("b", "400m", "512Mi")))).isEmpty();
    NodeInfo one =
        NodeInfo.of(
            json(
                "{'metadata':{'name':'o'},'status':{'allocatable':{'cpu':'1','memory':'1Gi','pods':'1'}}}"));
    assertThat(fit.filter(pod("a", null, null), one)).isEmpty();
    assertThat(fit.filter(pod("b", "2", null), one.withPod(pod("a", null, null))))
        .containsExactly("Too many pods", "Insufficient cpu");
    // Removing a pod gives its room back.
    assertThat(fit.filter(pod("b", "401m", null), n.withoutPod("default/a"))).isEmpty();
  }
}

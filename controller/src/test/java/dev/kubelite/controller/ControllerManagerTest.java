package dev.kubelite.controller;

import static dev.kubelite.controller.testing.ControllerFixture.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.controller.testing.ControllerFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ControllerManagerTest {

  static ObjectNode rs(String name, int replicas) {
    return json(
        """
        {'apiVersion':'apps/v1','kind':'ReplicaSet','metadata':{'name':'%s'},
         'spec':{'replicas':%d,'selector':{'matchLabels':{'app':'%s'}},
          'template':{'metadata':{'labels':{'app':'%s'}},
           'spec':{'containers':[{'name':'main','image':'nginx:1.27'}]}}}}"""
            .formatted(name, replicas, name, name));
  }

  private static ControllerManager manager(KubeClient c, String identity) {
    return new ControllerManager(
        c,
        ControllerManager.known(),
        new ControllerManager.Election(
            identity, Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500)));
  }

  @Test
  void twoInstancesOneLeadsAndTheOtherTakesOverWhenItStops() throws Exception {
    try (ControllerFixture f = new ControllerFixture()) {
      KubeClient c = f.client;
      String ns = f.namespace("cm");
      ControllerManager a = manager(c, "cm-a");
      ControllerManager b = manager(c, "cm-b");
      try {
        a.start();
        b.start();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> (a.isActive() ? 1 : 0) + (b.isActive() ? 1 : 0) == 1);
        ControllerManager leader = a.isActive() ? a : b;
        ControllerManager other = leader == a ? b : a;
        String leaderId = leader == a ? "cm-a" : "cm-b";
        await().atMost(Duration.ofSeconds(30)).until(leader::hasSynced);
        assertThat(
                c.get(Resource.LEASES, "kube-system", "kube-controller-manager")
                    .path("spec")
                    .path("holderIdentity")
                    .asText())
            .isEqualTo(leaderId);
        c.create(Resource.REPLICASETS, ns, rs("one", 2));
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> f.list(Resource.PODS, ns, "app=one").size() == 2);
        // Never two active at once while both run.
        assertThat(other.isActive()).isFalse();

        leader.close();
        await().atMost(Duration.ofSeconds(15)).until(other::hasSynced);
        assertThat(leader.isActive()).isFalse();
        c.create(Resource.REPLICASETS, ns, rs("two", 3));
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> f.list(Resource.PODS, ns, "app=two").size() == 3);
        assertThat(f.list(Resource.PODS, ns, "app=one")).hasSize(2);
      } finally {
        a.close();
        b.close();
      }
    }
  }

  @Test
  void withoutLeaderElectionTheControllersRunAtOnce() throws Exception {
    try (ControllerFixture f = new ControllerFixture()) {
      String ns = f.namespace("cm-nole");
      try (ControllerManager m =
          new ControllerManager(
              f.client,
              java.util.Map.of("replicaset", ControllerManager.known().get("replicaset")),
              null)) {
        m.start();
        assertThat(m.isActive()).isTrue();
        f.client.create(Resource.REPLICASETS, ns, rs("solo", 1));
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> f.list(Resource.PODS, ns, "app=solo").size() == 1);
      }
    }
  }

  @Test
  void controllersFlagSelectsLikeKubeControllerManager() {
    Set<String> known = ControllerManager.known().keySet();
    assertThat(known)
        .containsSequence(
            "replicaset", "deployment", "node-lifecycle", "garbage-collector", "namespace");
    assertThat(ControllerManager.select(List.of("*"), known)).containsExactlyElementsOf(known);
    assertThat(ControllerManager.select(List.of("*", "-deployment"), known))
        .doesNotContain("deployment")
        .contains("replicaset");
    assertThat(ControllerManager.select(List.of("deployment"), known))
        .containsExactly("deployment");
    assertThatThrownBy(() -> ControllerManager.select(List.of("jobs"), known))
        .hasMessageContaining("\"jobs\" is not in the list of known controllers");
  }

  @Test
  void commandHelpAndBadFlags() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl =
        new CommandLine(new ControllerManagerCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err));
    assertThat(cl.execute("--help")).isZero();
    assertThat(out.toString())
        .contains("--kubeconfig", "--server", "--controllers", "--[no-]leader-elect")
        .contains("kube-system/kube-controller-manager");
    // --controllers' help names every controller this build knows.
    String help = out.toString().replaceAll("\\s+", " ");
    for (String name : ControllerManager.known().keySet()) {
      assertThat(help).as(name).containsAnyOf(" " + name + ",", " " + name + ".");
    }
    CommandLine bad =
        new CommandLine(new ControllerManagerCommand())
            .setOut(new PrintWriter(out))
            .setErr(new PrintWriter(err));
    assertThat(bad.execute("--leader-elect-lease-duration=soon")).isEqualTo(2);
    assertThat(err.toString()).contains("'soon' is not a duration like 15s, 500ms or 1m");
  }
}

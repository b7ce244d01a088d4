package dev.kubelite.controller.deployment;

import static dev.kubelite.controller.testing.ControllerFixture.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class DeploymentUtilTest {
  private static ObjectNode d(int replicas, String surge, String unavailable) {
    return json(
        "{'spec':{'replicas':%d,'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':%s,'maxUnavailable':%s}}}}"
            .formatted(replicas, surge, unavailable));
  }

  @Test
  void surgeRoundsUpAndUnavailableRoundsDownAsKubernetes() {
    assertThat(DeploymentUtil.maxSurge(d(5, "'25%'", "'25%'"))).isEqualTo(2);
    assertThat(DeploymentUtil.maxUnavailable(d(5, "'25%'", "'25%'"))).isEqualTo(1);
    assertThat(DeploymentUtil.maxSurge(d(10, "3", "'0%'"))).isEqualTo(3);
    // 10% of 3: surge rounds up to 1, unavailable down to 0.
    assertThat(DeploymentUtil.maxSurge(d(3, "'10%'", "'10%'"))).isEqualTo(1);
    assertThat(DeploymentUtil.maxUnavailable(d(3, "'10%'", "'10%'"))).isZero();
    // Both zero is not allowed: maxUnavailable becomes 1.
    assertThat(DeploymentUtil.maxUnavailable(d(3, "0", "'10%'"))).isEqualTo(1);
    assertThat(DeploymentUtil.maxUnavailable(d(2, "0", "0"))).isEqualTo(1);
    // maxUnavailable never exceeds replicas; zero replicas means zero.
    assertThat(DeploymentUtil.maxUnavailable(d(2, "0", "5"))).isEqualTo(2);
    assertThat(DeploymentUtil.maxUnavailable(d(0, "1", "1"))).isZero();
    // Recreate has neither.
    ObjectNode recreate = json("{'spec':{'replicas':3,'strategy':{'type':'Recreate'}}}");
    assertThat(DeploymentUtil.maxSurge(recreate)).isZero();
    assertThat(DeploymentUtil.maxUnavailable(recreate)).isZero();
    assertThatThrownBy(() -> DeploymentUtil.maxSurge(d(3, "'x%'", "1")))
        .hasMessageContaining("invalid value");
  }

  @Test
  void hashIsStableAcrossNullsAndEmptiesAndIgnoresTheHashLabel() {
    ObjectNode a =
        json(
            "{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'m','image':'i:1','resources':{}}]}}");
    ObjectNode b =
        json(
            "{'metadata':{'creationTimestamp':null,'labels':{'app':'web','pod-template-hash':'x'}},"
                + "'spec':{'containers':[{'image':'i:1','name':'m'}]}}");
    assertThat(DeploymentUtil.equalIgnoringHash(a, b)).isTrue();
    String h = DeploymentUtil.hash(a, 0);
    assertThat(h).isEqualTo(DeploymentUtil.hash(b, 0)).matches("[bcdfghjklmnpqrstvwxz2456789]+");
    assertThat(DeploymentUtil.hash(a, 1)).isNotEqualTo(h);
    ObjectNode c =
        json(
            "{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'m','image':'i:2'}]}}");
    assertThat(DeploymentUtil.equalIgnoringHash(a, c)).isFalse();
    assertThat(DeploymentUtil.hash(c, 0)).isNotEqualTo(h);
  }

  @Test
  void newReplicaSetAnnotationsCopyTheDeploymentsButNotItsOwn() {
    ObjectNode d =
        json(
            "{'metadata':{'annotations':{'kubernetes.io/change-cause':'v2',"
                + "'kubectl.kubernetes.io/last-applied-configuration':'{}',"
                + "'deployment.kubernetes.io/revision':'7'}},"
                + "'spec':{'replicas':4,'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1,'maxUnavailable':0}}}}");
    ObjectNode rs = json("{'metadata':{'annotations':{'deployment.kubernetes.io/revision':'2'}}}");
    ObjectNode changes = DeploymentUtil.newReplicaSetAnnotations(d, rs, 3, false);
    assertThat(changes.toString())
        .isEqualTo(
            json("{'kubernetes.io/change-cause':'v2','deployment.kubernetes.io/revision':'3',"
                    + "'deployment.kubernetes.io/desired-replicas':'4',"
                    + "'deployment.kubernetes.io/max-replicas':'5'}")
                .toString());
    // The revision is never lowered.
    assertThat(DeploymentUtil.newReplicaSetAnnotations(d, rs, 1, true).has(DeploymentUtil.REVISION))
        .isFalse();
  }
}

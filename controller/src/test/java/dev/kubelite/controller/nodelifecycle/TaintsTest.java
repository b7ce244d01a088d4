package dev.kubelite.controller.nodelifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.client.KubeClient;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Toleration matching and toleration times, as Kubernetes computes them. */
class TaintsTest {
  static JsonNode json(String s) throws Exception {
    return KubeClient.JSON.readTree(s.replace('\'', '"'));
  }

  static JsonNode pod(String tolerations) throws Exception {
    return json("{'spec':{'tolerations':" + tolerations + "}}");
  }

  static final Duration DEFAULT = Duration.ofSeconds(300);

  @Test
  void matching() throws Exception {
    JsonNode taint = json("{'key':'k','value':'v','effect':'NoExecute'}");
    assertThat(Taints.tolerates(json("{'key':'k','operator':'Equal','value':'v'}"), taint))
        .isTrue();
    assertThat(Taints.tolerates(json("{'key':'k','value':'v'}"), taint)).isTrue();
    assertThat(Taints.tolerates(json("{'key':'k','value':'w'}"), taint)).isFalse();
    assertThat(Taints.tolerates(json("{'key':'k','operator':'Exists'}"), taint)).isTrue();
    assertThat(Taints.tolerates(json("{'operator':'Exists'}"), taint)).isTrue();
    assertThat(Taints.tolerates(json("{'operator':'Equal'}"), taint)).isFalse();
    assertThat(
            Taints.tolerates(json("{'key':'k','operator':'Exists','effect':'NoSchedule'}"), taint))
        .isFalse();
    assertThat(Taints.tolerates(json("{'key':'other','operator':'Exists'}"), taint)).isFalse();
  }

  @Test
  void tolerationTimes() throws Exception {
    JsonNode unreachable = json("{'key':'node.kubernetes.io/unreachable','effect':'NoExecute'}");
    JsonNode custom = json("{'key':'example.com/drain','effect':'NoExecute'}");
    // No matching toleration: the DefaultTolerationSeconds default for not-ready/unreachable,
    // immediate eviction for any other NoExecute taint.
    assertThat(Taints.toleration(pod("[]"), unreachable, DEFAULT)).contains(DEFAULT);
    assertThat(Taints.toleration(pod("[]"), custom, DEFAULT)).contains(Duration.ZERO);
    // A toleration without a time: for ever.
    assertThat(Taints.toleration(pod("[{'operator':'Exists'}]"), unreachable, DEFAULT)).isEmpty();
    // The shortest matching time wins; negative times are zero.
    String two =
        "[{'key':'node.kubernetes.io/unreachable','operator':'Exists','tolerationSeconds':60},"
            + "{'operator':'Exists','effect':'NoExecute','tolerationSeconds':30}]";
    assertThat(Taints.toleration(pod(two), unreachable, DEFAULT)).contains(Duration.ofSeconds(30));
    assertThat(
            Taints.toleration(
                pod("[{'operator':'Exists','tolerationSeconds':-5}]"), unreachable, DEFAULT))
        .isEqualTo(Optional.of(Duration.ZERO));
  }
}

package dev.kubelite.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pure parts: back-off, QoS class, image names, node addresses, flags. */
class PodRuntimeTest {
  @Test
  void restartBackOffIsImmediateThenDoublesUpToTheCap() {
    KubeletConfig c = KubeletConfig.builder().build();
    assertThat(PodRuntime.backOff(0, c)).isEqualTo(Duration.ZERO);
    assertThat(PodRuntime.backOff(1, c)).isEqualTo(Duration.ofSeconds(10));
    assertThat(PodRuntime.backOff(2, c)).isEqualTo(Duration.ofSeconds(20));
    assertThat(PodRuntime.backOff(5, c)).isEqualTo(Duration.ofSeconds(160));
    assertThat(PodRuntime.backOff(6, c)).isEqualTo(Duration.ofMinutes(5));
    assertThat(PodRuntime.backOff(60, c)).isEqualTo(Duration.ofMinutes(5));
  }

  static ObjectNode pod(String requests, String limits) throws Exception {
    String res = "{";
    if (requests != null) {
      res += "\"requests\":" + requests;
    }
    if (limits != null) {
      res += (requests != null ? "," : "") + "\"limits\":" + limits;
    }
    res += "}";
    return (ObjectNode)
        KubeClient.JSON.readTree(
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":" + res + "}]}}");
  }

  @Test
  void qosClassFollowsRequestsAndLimits() throws Exception {
    assertThat(PodRuntime.qosClass(pod(null, null))).isEqualTo("BestEffort");
    assertThat(PodRuntime.qosClass(pod("{\"cpu\":\"1\"}", null))).isEqualTo("Burstable");
    assertThat(PodRuntime.qosClass(pod(null, "{\"cpu\":\"1\",\"memory\":\"1Gi\"}")))
        .isEqualTo("Guaranteed");
    assertThat(
            PodRuntime.qosClass(
                pod("{\"cpu\":\"500m\",\"memory\":\"1Gi\"}", "{\"cpu\":\"1\",\"memory\":\"1Gi\"}")))
        .isEqualTo("Burstable");
  }

  @Test
  void imagesAreNamedAsContainerdReportsThem() {
    assertThat(PodRuntime.normalizeImage("nginx")).isEqualTo("docker.io/library/nginx:latest");
    assertThat(PodRuntime.normalizeImage("nginx:1.27")).isEqualTo("docker.io/library/nginx:1.27");
    assertThat(PodRuntime.normalizeImage("bitnami/redis:7")).isEqualTo("docker.io/bitnami/redis:7");
    assertThat(PodRuntime.normalizeImage("registry.k8s.io/pause:3.10"))
        .isEqualTo("registry.k8s.io/pause:3.10");
    assertThat(PodRuntime.normalizeImage("localhost:5000/app"))
        .isEqualTo("localhost:5000/app:latest");
    assertThat(PodRuntime.imageId("docker.io/library/nginx:1.27"))
        .matches("docker.io/library/nginx@sha256:[0-9a-f]{64}")
        .isEqualTo(PodRuntime.imageId("docker.io/library/nginx:1.27"));
  }

  @Test
  void nodeNumbersPickDistinctAddressesAndPodRanges() {
    SimNode a = new SimNode("n", 1);
    SimNode b = new SimNode("n", 258);
    assertThat(a.internalIp).isEqualTo("172.16.0.1");
    assertThat(a.podCidr).isEqualTo("10.0.1.0/24");
    assertThat(b.internalIp).isEqualTo("172.16.1.2");
    assertThat(b.podCidr).isEqualTo("10.1.2.0/24");
    for (int i = 0; i < SimNode.MAX_POD_IPS; i++) {
      assertThat(a.allocateIp()).isNotNull();
    }
    assertThat(a.allocateIp()).isNull();
    a.releaseIp("10.0.1.77");
    assertThat(a.allocateIp()).isEqualTo("10.0.1.77");
    assertThat(b.reserveIp("10.1.2.9")).isTrue();
    assertThat(b.reserveIp("10.1.2.9")).isFalse();
    assertThat(b.allocateIp()).isEqualTo("10.1.2.2");
  }

  @Test
  void flagsAreCheckedWithMessagesThatSayWhatToWrite() {
    assertThat(KubeletCommand.duration("--x", "1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(KubeletCommand.duration("--x", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThatThrownBy(() -> KubeletCommand.duration("--x", "10"))
        .hasMessageContaining("--x: '10' is not a duration");
    assertThatThrownBy(() -> KubeletConfig.builder().maxPods(300).build())
        .hasMessageContaining("--pods must lie in 1..253");
    assertThatThrownBy(() -> KubeletConfig.builder().taints(java.util.List.of("a=b")).build())
        .hasMessageContaining("must be key[=value]:Effect");
    assertThatThrownBy(() -> KubeletConfig.builder().firstNode(65_535).nodes(2).build())
        .hasMessageContaining("node numbers must lie in 1..65535");
  }
}

package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import dev.kubelite.apiserver.testing.Kubectl;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real {@code kubectl drain}: it cordons the node and deletes its pods through the typed
 * client, whose DeleteOptions come protobuf-encoded (no eviction subresource is served, so kubectl
 * deletes instead of evicting).
 */
class KubectlDrainTest {
  static ApiServerFixture f;

  @BeforeAll
  static void start() throws Exception {
    f = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
  }

  @AfterAll
  static void stop() {
    if (f != null) {
      f.close();
    }
  }

  private static void created(Response r) {
    assertThat(r.code()).as(r.body()).isEqualTo(201);
  }

  @Test
  void drainCordonsTheNodeAndDeletesItsReplicatedPods() throws Exception {
    created(f.post("/api/v1/nodes", "{\"metadata\":{\"name\":\"n-drain\"}}"));
    Response rs =
        f.post(
            "/apis/apps/v1/namespaces/default/replicasets",
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":"
                + "{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
                + "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}");
    created(rs);
    String rsUid = rs.json().path("metadata").path("uid").asText();
    created(
        f.post(
            "/api/v1/namespaces/default/pods",
            "{\"metadata\":{\"name\":\"web-1\",\"labels\":{\"app\":\"web\"},\"ownerReferences\":"
                + "[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\""
                + rsUid
                + "\",\"controller\":true}]},\"spec\":{\"nodeName\":\"n-drain\",\"containers\":"
                + "[{\"name\":\"c\",\"image\":\"nginx\"}]}}"));

    Kubectl k = new Kubectl(f.dir, f.url(), "default", Duration.ofSeconds(60));
    // Grace period 0: no kubelet runs here to confirm a graceful termination.
    Kubectl.Result drained = k.run("drain", "n-drain", "--grace-period=0", "--timeout=30s");
    assertThat(drained.exitCode()).as(drained.output()).isZero();
    assertThat(drained.output()).contains("node/n-drain drained");
    assertThat(f.get("/api/v1/namespaces/default/pods/web-1").code()).isEqualTo(404);
    assertThat(f.get("/api/v1/nodes/n-drain").json().path("spec").path("unschedulable").asBoolean())
        .isTrue();
  }
}

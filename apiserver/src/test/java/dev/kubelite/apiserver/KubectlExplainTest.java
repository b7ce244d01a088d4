package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.Kubectl;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The real kubectl 1.32's {@code explain}, from the API server's OpenAPI v3 schemas. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubectlExplainTest {
  private ApiServerFixture f;
  private Kubectl k;

  @BeforeAll
  void start() throws Exception {
    f = ApiServerFixture.start(ApiServerFixture.Backend.EMBEDDED);
    k = new Kubectl(f.dir, f.url(), "default", Duration.ofSeconds(60));
  }

  @AfterAll
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void explainsAKindItsFieldsAndNestedTypes() throws Exception {
    String pod = k.ok("explain", "pods");
    assertThat(pod)
        .contains("KIND:", "Pod", "VERSION:", "v1")
        .contains("scheduled together onto a node")
        .containsPattern("spec\\s+<PodSpec>")
        .containsPattern("metadata\\s+<ObjectMeta>");

    String containers = k.ok("explain", "deployment.spec.template.spec.containers");
    assertThat(containers)
        .contains("GROUP:", "apps", "KIND:", "Deployment")
        .containsPattern("FIELD:\\s+containers\\s+<\\[\\]Container>")
        .containsPattern("image\\s+<string>")
        .containsPattern("env\\s+<\\[\\]EnvVar>");

    assertThat(k.ok("explain", "lease.spec.holderIdentity")).contains("<string>");
    assertThat(k.ok("explain", "svc.spec", "--recursive"))
        .containsPattern("ports\\s+<\\[\\]ServicePort>")
        .containsPattern("targetPort\\s+<IntOrString>");
    assertThat(k.ok("explain", "pod.spec.containers.resources"))
        .containsPattern("limits\\s+<map\\[string\\]Quantity>");
  }

  @Test
  void unknownFieldIsAnErrorFromKubectl() throws Exception {
    Kubectl.Result r = k.run("explain", "pods.spec.nosuchfield");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.output()).contains("nosuchfield");
  }

  @Test
  void listsCarryTheMergeKeysTheServerMergesOn() throws Exception {
    JsonNode doc = f.get("/openapi/v3/apis/apps/v1").json();
    JsonNode schemas = doc.path("components").path("schemas");
    JsonNode podSpec = schemas.path("io.k8s.api.core.v1.PodSpec").path("properties");
    assertThat(podSpec.path("containers").path("x-kubernetes-patch-merge-key").asText())
        .isEqualTo("name");
    assertThat(podSpec.path("containers").path("x-kubernetes-list-map-keys").get(0).asText())
        .isEqualTo("name");
    JsonNode container = schemas.path("io.k8s.api.core.v1.Container").path("properties");
    assertThat(container.path("ports").path("x-kubernetes-patch-merge-key").asText())
        .isEqualTo("containerPort");
    assertThat(container.path("args").has("x-kubernetes-patch-strategy")).isFalse();
    JsonNode deployment = schemas.path("io.k8s.api.apps.v1.Deployment");
    assertThat(deployment.path("x-kubernetes-group-version-kind").get(0).path("kind").asText())
        .isEqualTo("Deployment");
    assertThat(schemas.has("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")).isTrue();
    // Each document holds only what its kinds reach: no Pod in apps/v1, no Deployment in v1.
    assertThat(schemas.has("io.k8s.api.core.v1.Pod")).isFalse();
    JsonNode core = f.get("/openapi/v3/api/v1").json().path("components").path("schemas");
    assertThat(core.has("io.k8s.api.apps.v1.Deployment")).isFalse();
    JsonNode serviceSpec = core.path("io.k8s.api.core.v1.ServiceSpec").path("properties");
    assertThat(serviceSpec.path("ports").path("x-kubernetes-patch-merge-key").asText())
        .isEqualTo("port");
    // PATCH declares no body types, so kubectl apply keeps building patches from its own types.
    JsonNode patch =
        doc.path("paths")
            .path("/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
            .path("patch");
    assertThat(patch.has("requestBody")).isFalse();
  }
}

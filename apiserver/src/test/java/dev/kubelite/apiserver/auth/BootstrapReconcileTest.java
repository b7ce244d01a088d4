package dev.kubelite.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.ApiServer;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The default RBAC policy of an older data dir is brought up to date when an API server starts, as
 * Kubernetes reconciles its bootstrap roles: missing rules and subjects are added, an
 * administrator's additions stay, and objects annotated {@code autoupdate: "false"} are left alone.
 */
class BootstrapReconcileTest {
  private static final String ROLES = "/apis/rbac.authorization.k8s.io/v1/clusterroles/";
  private static final String BINDINGS = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/";

  private ApiServerFixture api;

  private static ApiServer.Options secured(ApiServer.Options o) {
    return o.withAuthentication(TestTokens.AUTHENTICATOR)
        .withAuthorization(AuthorizerChain.of(List.of("Node", "RBAC")));
  }

  @BeforeEach
  void start() throws Exception {
    api = ApiServerFixture.start(BootstrapReconcileTest::secured);
    api.api.awaitBootstrap(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    if (api != null) {
      api.close();
    }
  }

  private Response as(String token, String method, String path, String body) throws Exception {
    String type =
        body == null
            ? null
            : method.equals("PATCH") ? "application/merge-patch+json" : "application/json";
    return api.request(method, path, type, body, null, token);
  }

  private JsonNode ok(Response r) {
    assertThat(r.code()).as(r.body()).isBetween(200, 201);
    return r.json();
  }

  @Test
  void anOlderPolicyGetsWhatThisVersionNeedsAndKeepsWhatAnAdministratorAdded() throws Exception {
    // As an older version left it: the controller manager could not patch arbitrary objects, and
    // an administrator added a rule of their own.
    ok(
        as(
            "admin",
            "PUT",
            ROLES + "system:kube-controller-manager",
            """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
             "metadata":{"name":"system:kube-controller-manager"},
             "rules":[{"verbs":["get","list","watch"],"apiGroups":["*"],"resources":["*"]},
                      {"verbs":["get"],"apiGroups":["example.com"],"resources":["widgets"]}]}"""));
    // An administrator's own view role, marked to be kept as it is.
    ok(
        as(
            "admin",
            "PUT",
            ROLES + "view",
            """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
             "metadata":{"name":"view",
               "annotations":{"rbac.authorization.kubernetes.io/autoupdate":"false"}},
             "rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}"""));
    // The scheduler's binding lost its subject and gained another.
    ok(
        as(
            "admin",
            "PUT",
            BINDINGS + "system:kube-scheduler",
            """
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
             "metadata":{"name":"system:kube-scheduler"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
                        "name":"system:kube-scheduler"},
             "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"alice"}]}"""));
    String configMap = "/api/v1/namespaces/default/configmaps/settings";
    ok(
        as(
            "admin",
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "{\"metadata\":{\"name\":\"settings\"},\"data\":{\"a\":\"1\"}}"));
    String patch = "{\"metadata\":{\"labels\":{\"fixed\":\"yes\"}}}";
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(as("controller-manager", "PATCH", configMap, patch).code())
                    .isEqualTo(403));

    // A newer API server starts over the same store (as `kubelite up` on an existing data dir).
    try (ApiServer restarted =
        ApiServer.start(api.store, secured(new ApiServer.Options("127.0.0.1", 0)))) {
      restarted.awaitBootstrap(30, TimeUnit.SECONDS);
    }

    JsonNode manager = ok(as("admin", "GET", ROLES + "system:kube-controller-manager", null));
    List<RbacAuthorizer.Rule> rules = new ArrayList<>();
    manager.path("rules").forEach(r -> rules.add(RbacAuthorizer.Rule.of(r)));
    for (JsonNode wanted : defaultRole("system:kube-controller-manager").path("rules")) {
      assertThat(BootstrapPolicy.covered(rules, RbacAuthorizer.Rule.of(wanted)))
          .as("default rule %s", wanted)
          .isTrue();
    }
    assertThat(manager.path("rules").toString()).contains("widgets");
    assertThat(manager.path("metadata").path("labels").path("kubernetes.io/bootstrapping").asText())
        .isEqualTo("rbac-defaults");

    JsonNode view = ok(as("admin", "GET", ROLES + "view", null));
    assertThat(view.path("rules")).hasSize(1);

    JsonNode scheduler = ok(as("admin", "GET", BINDINGS + "system:kube-scheduler", null));
    List<String> subjects = new ArrayList<>();
    scheduler.path("subjects").forEach(s -> subjects.add(s.path("name").asText()));
    assertThat(subjects).containsExactlyInAnyOrder("alice", "system:kube-scheduler");

    // What that means for the components: the controller manager may now fix that ConfigMap.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> ok(as("controller-manager", "PATCH", configMap, patch)));
  }

  @Test
  void anUpToDatePolicyIsNotWrittenAgain() throws Exception {
    String before =
        ok(as("admin", "GET", ROLES + "system:kube-scheduler", null))
            .path("metadata")
            .path("resourceVersion")
            .asText();
    try (ApiServer restarted =
        ApiServer.start(api.store, secured(new ApiServer.Options("127.0.0.1", 0)))) {
      restarted.awaitBootstrap(30, TimeUnit.SECONDS);
    }
    assertThat(
            ok(as("admin", "GET", ROLES + "system:kube-scheduler", null))
                .path("metadata")
                .path("resourceVersion")
                .asText())
        .isEqualTo(before);
  }

  @Test
  void aRuleIsCoveredOnlyByRulesGrantingEachOfItsPermissions() {
    RbacAuthorizer.Rule everything = rule("[\"*\"]", "[\"*\"]", "[\"*\"]", "[]");
    RbacAuthorizer.Rule readPods = rule("[\"get\",\"list\"]", "[\"\"]", "[\"pods\"]", "[]");
    RbacAuthorizer.Rule getOne = rule("[\"get\"]", "[\"\"]", "[\"pods\"]", "[\"a\"]");
    RbacAuthorizer.Rule podStatus = rule("[\"patch\"]", "[\"\"]", "[\"pods/status\"]", "[]");
    assertThat(BootstrapPolicy.covered(List.of(everything), readPods)).isTrue();
    assertThat(BootstrapPolicy.covered(List.of(everything), podStatus)).isTrue();
    assertThat(BootstrapPolicy.covered(List.of(readPods), everything)).isFalse();
    assertThat(BootstrapPolicy.covered(List.of(readPods), getOne)).isTrue();
    assertThat(BootstrapPolicy.covered(List.of(getOne), readPods)).isFalse();
    assertThat(BootstrapPolicy.covered(List.of(readPods), podStatus)).isFalse();
    assertThat(
            BootstrapPolicy.covered(
                List.of(
                    RbacAuthorizer.Rule.of(
                        tree("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz*\"]}"))),
                RbacAuthorizer.Rule.of(
                    tree("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz/ready\"]}"))))
        .isTrue();
  }

  private static RbacAuthorizer.Rule rule(
      String verbs, String groups, String resources, String names) {
    return RbacAuthorizer.Rule.of(
        tree(
            "{\"verbs\":%s,\"apiGroups\":%s,\"resources\":%s,\"resourceNames\":%s}"
                .formatted(verbs, groups, resources, names)));
  }

  private static JsonNode tree(String json) {
    try {
      return ApiServerFixture.JSON.readTree(json);
    } catch (Exception e) {
      throw new AssertionError(json, e);
    }
  }

  private static JsonNode defaultRole(String name) {
    return BootstrapPolicy.clusterRoles().stream()
        .filter(r -> r.path("metadata").path("name").asText().equals(name))
        .findFirst()
        .orElseThrow();
  }
}

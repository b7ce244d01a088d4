package dev.kubelite.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.ApiServerFixture;
import dev.kubelite.apiserver.testing.ApiServerFixture.Response;
import dev.kubelite.apiserver.testing.Kubectl;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RBAC and the Node authorizer through the real HTTP API: an API server with {@code
 * --authorization-mode=Node,RBAC} (and {@link TestTokens} as its authenticator), requests that try
 * to get in where they should not, and the legitimate ones next to them.
 */
class RbacTest {
  static ApiServerFixture api;
  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    api =
        ApiServerFixture.start(
            o ->
                o.withAuthentication(TestTokens.AUTHENTICATOR)
                    .withAuthorization(AuthorizerChain.of(List.of("Node", "RBAC"))));
    for (String ns : List.of("team-a", "team-b")) {
      ok(as("admin", "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"" + ns + "\"}}"));
    }
    ok(as("admin", "POST", "/api/v1/namespaces/default/pods", pod("on-a", "node-a")));
    ok(as("admin", "POST", "/api/v1/namespaces/default/pods", pod("on-b", "node-b")));
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  static String pod(String name, String node) {
    return """
        {"metadata":{"name":"%s"},"spec":{"nodeName":"%s",
         "containers":[{"name":"c","image":"busybox"}]}}"""
        .formatted(name, node);
  }

  static Response as(String token, String method, String path, String body) throws Exception {
    return api.request(
        method,
        path,
        body == null
            ? null
            : method.equals("PATCH") ? "application/merge-patch+json" : "application/json",
        body,
        null,
        token);
  }

  static JsonNode ok(Response r) {
    assertThat(r.code()).as(r.body()).isBetween(200, 201);
    return r.json();
  }

  static void forbidden(Response r, String message) {
    assertThat(r.code()).as(r.body()).isEqualTo(403);
    JsonNode s = r.json();
    assertThat(s.path("kind").asText()).isEqualTo("Status");
    assertThat(s.path("reason").asText()).isEqualTo("Forbidden");
    assertThat(s.path("message").asText()).isEqualTo(message);
  }

  /** Waits until the authorizer's cache of the policy has seen a change: allowed eventually. */
  static void eventuallyOk(String token, String method, String path, String body) {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> ok(as(token, method, path, body)));
  }

  @Test
  void bootstrapPolicyIsWrittenAndListed() throws Exception {
    JsonNode roles =
        ok(as("admin", "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", null));
    List<String> names =
        roles.path("items").findValues("metadata").stream()
            .map(m -> m.path("name").asText())
            .toList();
    assertThat(names)
        .contains(
            "cluster-admin",
            "admin",
            "edit",
            "view",
            "system:basic-user",
            "system:discovery",
            "system:public-info-viewer",
            "system:kube-scheduler",
            "system:kube-controller-manager",
            "system:node");
    JsonNode binding =
        ok(
            as(
                "admin",
                "GET",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:kube-scheduler",
                null));
    assertThat(binding.path("subjects").get(0).path("name").asText())
        .isEqualTo("system:kube-scheduler");
  }

  @Test
  void schedulerMayBindPodsButNotCreateDeployments() throws Exception {
    forbidden(
        as(
            "scheduler",
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            "{\"metadata\":{\"name\":\"d\"}}"),
        "deployments.apps is forbidden: User \"system:kube-scheduler\" cannot create resource"
            + " \"deployments\" in API group \"apps\" in the namespace \"default\"");
    forbidden(
        as("scheduler", "GET", "/api/v1/namespaces/default/secrets", null),
        "secrets is forbidden: User \"system:kube-scheduler\" cannot list resource \"secrets\" in"
            + " API group \"\" in the namespace \"default\"");
    ok(as("scheduler", "GET", "/api/v1/pods", null));
    ok(as("scheduler", "GET", "/api/v1/nodes", null));
    ok(
        as(
            "admin",
            "POST",
            "/api/v1/namespaces/default/pods",
            "{\"metadata\":{\"name\":\"unbound\"},\"spec\":{\"containers\":"
                + "[{\"name\":\"c\",\"image\":\"busybox\"}]}}"));
    ok(
        as(
            "scheduler",
            "POST",
            "/api/v1/namespaces/default/pods/unbound/binding",
            "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"unbound\"},"
                + "\"target\":{\"kind\":\"Node\",\"name\":\"node-a\"}}"));
    // Its own leader-election Lease, and no other.
    ok(
        as(
            "scheduler",
            "POST",
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
            "{\"metadata\":{\"name\":\"kube-scheduler\"},\"spec\":{}}"));
    ok(
        as(
            "scheduler",
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler",
            null));
    forbidden(
        as(
            "scheduler",
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager",
            null),
        "leases.coordination.k8s.io \"kube-controller-manager\" is forbidden: User"
            + " \"system:kube-scheduler\" cannot get resource \"leases\" in API group"
            + " \"coordination.k8s.io\" in the namespace \"kube-system\"");
  }

  @Test
  void kubeletSeesOnlyItsOwnNodesPods() throws Exception {
    ok(as("node:node-a", "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a", null));
    ok(
        as(
            "node:node-a",
            "GET",
            "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&watch=true&timeoutSeconds=1",
            null));
    forbidden(
        as("node:node-a", "GET", "/api/v1/pods", null),
        "pods is forbidden: User \"system:node:node-a\" cannot list resource \"pods\" in API"
            + " group \"\" at the cluster scope: can only list/watch pods with"
            + " spec.nodeName=node-a field selector");
    forbidden(
        as("node:node-a", "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-b", null),
        "pods is forbidden: User \"system:node:node-a\" cannot list resource \"pods\" in API"
            + " group \"\" at the cluster scope: can only list/watch pods with"
            + " spec.nodeName=node-a field selector");
    ok(as("node:node-a", "GET", "/api/v1/namespaces/default/pods/on-a", null));
    forbidden(
        as("node:node-a", "GET", "/api/v1/namespaces/default/pods/on-b", null),
        "pods \"on-b\" is forbidden: User \"system:node:node-a\" cannot get resource \"pods\" in"
            + " API group \"\" in the namespace \"default\": no relationship found between node"
            + " 'node-a' and this object");
    ok(
        as(
            "node:node-a",
            "PATCH",
            "/api/v1/namespaces/default/pods/on-a/status",
            "{\"status\":{\"phase\":\"Running\"}}"));
    forbidden(
        as(
            "node:node-a",
            "PATCH",
            "/api/v1/namespaces/default/pods/on-b/status",
            "{\"status\":{\"phase\":\"Running\"}}"),
        "pods \"on-b\" is forbidden: User \"system:node:node-a\" cannot patch resource"
            + " \"pods/status\" in API group \"\" in the namespace \"default\": no relationship"
            + " found between node 'node-a' and this object");
    forbidden(
        as("node:node-a", "POST", "/api/v1/namespaces/default/pods", pod("sneaky", "node-a")),
        "pods is forbidden: User \"system:node:node-a\" cannot create resource \"pods\" in API"
            + " group \"\" in the namespace \"default\": node 'node-a' cannot create pods");
    // Its own Node and Lease; not another node's.
    ok(as("node:node-a", "POST", "/api/v1/nodes", "{\"metadata\":{\"name\":\"node-a\"}}"));
    ok(as("admin", "POST", "/api/v1/nodes", "{\"metadata\":{\"name\":\"node-b\"}}"));
    ok(
        as(
            "node:node-a",
            "PATCH",
            "/api/v1/nodes/node-a/status",
            "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}"));
    forbidden(
        as(
            "node:node-a",
            "PATCH",
            "/api/v1/nodes/node-b",
            "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}"),
        "nodes \"node-b\" is forbidden: User \"system:node:node-a\" cannot patch resource"
            + " \"nodes\" in API group \"\" at the cluster scope: node 'node-a' cannot modify"
            + " node 'node-b'");
    ok(
        as(
            "node:node-a",
            "POST",
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
            "{\"metadata\":{\"name\":\"node-a\"},\"spec\":{\"holderIdentity\":\"node-a\"}}"));
    ok(
        as(
            "node:node-a",
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a",
            null));
    assertThat(
            as(
                    "node:node-a",
                    "GET",
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-b",
                    null)
                .code())
        .isEqualTo(403);
    ok(
        as(
            "node:node-a",
            "POST",
            "/api/v1/namespaces/default/events",
            "{\"metadata\":{\"name\":\"e1\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"on-a\"},"
                + "\"reason\":\"Started\",\"message\":\"started\"}"));
    // Deleting its own pod (the kubelet's final delete) but not another node's.
    forbidden(
        as("node:node-a", "DELETE", "/api/v1/namespaces/default/pods/on-b", null),
        "pods \"on-b\" is forbidden: User \"system:node:node-a\" cannot delete resource \"pods\""
            + " in API group \"\" in the namespace \"default\": no relationship found between"
            + " node 'node-a' and this object");
    // A node has no secrets access through RBAC either.
    assertThat(as("node:node-a", "GET", "/api/v1/namespaces/default/secrets", null).code())
        .isEqualTo(403);
  }

  @Test
  void roleInOneNamespaceDoesNotGrantAnother() throws Exception {
    ok(
        as(
            "admin",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles",
            """
            {"metadata":{"name":"pod-reader"},
             "rules":[{"apiGroups":[""],"resources":["pods","pods/log"],
                       "verbs":["get","list","watch"]}]}"""));
    ok(
        as(
            "admin",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings",
            """
            {"metadata":{"name":"bob-reads"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-reader"},
             "subjects":[{"kind":"User","name":"bob"}]}"""));
    eventuallyOk("user-bob", "GET", "/api/v1/namespaces/team-a/pods", null);
    forbidden(
        as("user-bob", "GET", "/api/v1/namespaces/team-b/pods", null),
        "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" in the"
            + " namespace \"team-b\"");
    forbidden(
        as("user-bob", "GET", "/api/v1/pods", null),
        "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" at the"
            + " cluster scope");
    forbidden(
        as("user-bob", "POST", "/api/v1/namespaces/team-a/pods", pod("p", "node-a")),
        "pods is forbidden: User \"bob\" cannot create resource \"pods\" in API group \"\" in"
            + " the namespace \"team-a\"");
    // A namespaced binding of a ClusterRole grants it in that namespace only.
    ok(
        as(
            "admin",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/team-b/rolebindings",
            """
            {"metadata":{"name":"bob-edits"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"},
             "subjects":[{"kind":"Group","name":"system:authenticated"}]}"""));
    eventuallyOk(
        "user-bob",
        "POST",
        "/api/v1/namespaces/team-b/configmaps",
        "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"a\":\"b\"}}");
    assertThat(as("user-bob", "GET", "/api/v1/namespaces/team-a/configmaps", null).code())
        .isEqualTo(403);
  }

  @Test
  void resourceNamesLimitARuleToNamedObjects() throws Exception {
    for (String cm : List.of("allowed", "other")) {
      ok(
          as(
              "admin",
              "POST",
              "/api/v1/namespaces/team-a/configmaps",
              "{\"metadata\":{\"name\":\"" + cm + "\"}}"));
    }
    ok(
        as(
            "admin",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            """
            {"metadata":{"name":"one-configmap"},
             "rules":[{"apiGroups":[""],"resources":["configmaps"],"resourceNames":["allowed"],
                       "verbs":["get","update"]}]}"""));
    ok(
        as(
            "admin",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            """
            {"metadata":{"name":"carol-one-configmap"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
                        "name":"one-configmap"},
             "subjects":[{"kind":"User","name":"carol"}]}"""));
    eventuallyOk("user-carol", "GET", "/api/v1/namespaces/team-a/configmaps/allowed", null);
    forbidden(
        as("user-carol", "GET", "/api/v1/namespaces/team-a/configmaps/other", null),
        "configmaps \"other\" is forbidden: User \"carol\" cannot get resource \"configmaps\" in"
            + " API group \"\" in the namespace \"team-a\"");
    // A list names no object, so resourceNames never grant it.
    assertThat(as("user-carol", "GET", "/api/v1/namespaces/team-a/configmaps", null).code())
        .isEqualTo(403);
  }

  @Test
  void nonResourceUrlsAndAnonymous() throws Exception {
    ok(as("user-dave", "GET", "/version", null));
    ok(as("user-dave", "GET", "/apis", null));
    assertThat(as("", "GET", "/healthz", null).code()).isEqualTo(200);
    forbidden(
        as("", "GET", "/api/v1/namespaces/default/pods", null),
        "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group"
            + " \"\" in the namespace \"default\"");
    forbidden(
        as("user-dave", "GET", "/kubelite/v1/store/members", null),
        "forbidden: User \"dave\" cannot get path \"/kubelite/v1/store/members\"");
  }

  @Test
  void rbacObjectsAreValidated() throws Exception {
    String base = "/apis/rbac.authorization.k8s.io/v1";
    Response r =
        as(
            "admin",
            "POST",
            base + "/namespaces/team-a/roles",
            """
            {"metadata":{"name":"bad"},
             "rules":[{"nonResourceURLs":["/healthz"],"verbs":["get"]},
                      {"apiGroups":[""],"resources":["pods"]}]}""");
    assertThat(r.code()).as(r.body()).isEqualTo(422);
    assertThat(r.json().path("message").asText())
        .contains("rules[0].nonResourceURLs")
        .contains("namespaced rules cannot apply to non-resource URLs")
        .contains("rules[1].verbs: Required value");
    r =
        as(
            "admin",
            "POST",
            base + "/clusterrolebindings",
            """
            {"metadata":{"name":"bad"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"x"},
             "subjects":[{"kind":"Robot","name":"r2"},{"kind":"ServiceAccount","name":"sa"}]}""");
    assertThat(r.code()).as(r.body()).isEqualTo(422);
    assertThat(r.json().path("message").asText())
        .contains("roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"")
        .contains("subjects[0].kind: Unsupported value: \"Robot\"")
        .contains("subjects[1].namespace: Required value");
    ok(
        as(
            "admin",
            "POST",
            base + "/namespaces/team-a/rolebindings",
            """
            {"metadata":{"name":"fixed"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
             "subjects":[{"kind":"User","name":"erin"}]}"""));
    r =
        as(
            "admin",
            "PATCH",
            base + "/namespaces/team-a/rolebindings/fixed",
            "{\"roleRef\":{\"name\":\"edit\"}}");
    assertThat(r.code()).as(r.body()).isEqualTo(422);
    assertThat(r.json().path("message").asText())
        .contains("roleRef")
        .contains("cannot change roleRef");
    JsonNode fixed = ok(as("admin", "GET", base + "/namespaces/team-a/rolebindings/fixed", null));
    assertThat(fixed.path("subjects").get(0).path("apiGroup").asText())
        .isEqualTo("rbac.authorization.k8s.io");
  }

  @Test
  void accessReviewsAnswerForTheCallerAndForOthers() throws Exception {
    String ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    JsonNode yes =
        ok(
            as(
                "scheduler",
                "POST",
                ssar,
                "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
                    + "\"spec\":{\"resourceAttributes\":{\"verb\":\"create\",\"resource\":\"pods\","
                    + "\"subresource\":\"binding\",\"namespace\":\"default\"}}}"));
    assertThat(yes.path("status").path("allowed").asBoolean()).isTrue();
    JsonNode no =
        ok(
            as(
                "scheduler",
                "POST",
                ssar,
                "{\"spec\":{\"resourceAttributes\":{\"verb\":\"create\",\"group\":\"apps\","
                    + "\"resource\":\"deployments\",\"namespace\":\"default\"}}}"));
    assertThat(no.path("status").path("allowed").asBoolean()).isFalse();
    JsonNode nodeNo =
        ok(
            as(
                "node:node-a",
                "POST",
                ssar,
                "{\"spec\":{\"resourceAttributes\":{\"verb\":\"list\",\"resource\":\"pods\"}}}"));
    assertThat(nodeNo.path("status").path("allowed").asBoolean()).isFalse();
    assertThat(nodeNo.path("status").path("denied").asBoolean()).isTrue();
    assertThat(nodeNo.path("status").path("reason").asText())
        .isEqualTo("can only list/watch pods with spec.nodeName=node-a field selector");
    String sar = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
    String body =
        "{\"spec\":{\"user\":\"system:kube-scheduler\",\"resourceAttributes\":{\"verb\":\"get\","
            + "\"resource\":\"nodes\"}}}";
    assertThat(ok(as("admin", "POST", sar, body)).path("status").path("allowed").asBoolean())
        .isTrue();
    forbidden(
        as("user-frank", "POST", sar, body),
        "subjectaccessreviews.authorization.k8s.io is forbidden: User \"frank\" cannot create"
            + " resource \"subjectaccessreviews\" in API group \"authorization.k8s.io\" at the"
            + " cluster scope");
    // ServiceAccounts and groups, through a SubjectAccessReview an admin asks.
    ok(
        as(
            "admin",
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/team-b/rolebindings",
            """
            {"metadata":{"name":"bot-view"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
             "subjects":[{"kind":"ServiceAccount","name":"bot"},
                         {"kind":"Group","name":"auditors"}]}"""));
    String botReads =
        "{\"spec\":{\"user\":\"system:serviceaccount:team-b:bot\",\"resourceAttributes\":"
            + "{\"verb\":\"list\",\"resource\":\"pods\",\"namespace\":\"team-b\"}}}";
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                ok(as("admin", "POST", sar, botReads)).path("status").path("allowed").asBoolean());
    String botElsewhere = botReads.replace("\"namespace\":\"team-b\"", "\"namespace\":\"team-a\"");
    assertThat(
            ok(as("admin", "POST", sar, botElsewhere)).path("status").path("allowed").asBoolean())
        .isFalse();
    String otherSa = botReads.replace("team-b:bot", "team-a:bot");
    assertThat(ok(as("admin", "POST", sar, otherSa)).path("status").path("allowed").asBoolean())
        .isFalse();
    String auditor =
        "{\"spec\":{\"user\":\"jo\",\"groups\":[\"auditors\"],\"resourceAttributes\":"
            + "{\"verb\":\"get\",\"resource\":\"pods\",\"namespace\":\"team-b\",\"name\":\"x\"}}}";
    assertThat(ok(as("admin", "POST", sar, auditor)).path("status").path("allowed").asBoolean())
        .isTrue();
    Response invalid = as("user-frank", "POST", ssar, "{\"spec\":{}}");
    assertThat(invalid.code()).as(invalid.body()).isEqualTo(422);
  }

  @Test
  void noOneGrantsWhatTheyDoNotHold() throws Exception {
    String base = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a";
    ok(
        as(
            "admin",
            "POST",
            base + "/rolebindings",
            """
            {"metadata":{"name":"henry-admin"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"admin"},
             "subjects":[{"kind":"User","name":"henry"}]}"""));
    // A namespace admin may write Roles granting what it holds...
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                ok(
                    as(
                        "user-henry",
                        "POST",
                        base + "/roles",
                        """
                        {"metadata":{"name":"reader"},
                         "rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]}]}""")));
    ok(
        as(
            "user-henry",
            "POST",
            base + "/rolebindings",
            """
            {"metadata":{"name":"ivy-view"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
             "subjects":[{"kind":"User","name":"ivy"}]}"""));
    // ...but not more.
    Response more =
        as(
            "user-henry",
            "POST",
            base + "/roles",
            """
            {"metadata":{"name":"more"},
             "rules":[{"apiGroups":[""],"resources":["pods","nodes"],"verbs":["get"]}]}""");
    forbidden(
        more,
        "roles.rbac.authorization.k8s.io is forbidden: user \"henry\" is attempting to grant RBAC"
            + " permissions not currently held: {get core nodes in team-a}");
    Response bindAdmin =
        as(
            "user-henry",
            "POST",
            base + "/rolebindings",
            """
            {"metadata":{"name":"henry-all"},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
                        "name":"cluster-admin"},
             "subjects":[{"kind":"User","name":"henry"}]}""");
    assertThat(bindAdmin.code()).as(bindAdmin.body()).isEqualTo(403);
    assertThat(bindAdmin.json().path("message").asText())
        .contains("is attempting to grant RBAC permissions not currently held")
        .contains("{* * * in team-a}");
    Response patch = as("user-henry", "PATCH", base + "/roles/reader", "{\"rules\":[]}");
    assertThat(patch.code()).as(patch.body()).isEqualTo(403);
    assertThat(patch.json().path("message").asText()).contains("needs the escalate verb");
    // An administrator may grant anything.
    ok(
        as(
            "admin",
            "POST",
            base + "/roles",
            """
            {"metadata":{"name":"more"},
             "rules":[{"apiGroups":[""],"resources":["pods","nodes"],"verbs":["get"]}]}"""));
  }

  /**
   * The garbage collector (controller manager) removes finalizers and ownerReferences of objects of
   * any kind, RBAC objects too, as Kubernetes' GC may; changing what a role grants or whom a
   * binding names stays refused beyond what it holds.
   */
  @Test
  void controllerManagerFixesRbacObjectsButCannotWidenThem() throws Exception {
    String crs = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
    ok(
        as(
            "admin",
            "POST",
            crs,
            """
            {"metadata":{"name":"gc-owned","finalizers":["foregroundDeletion"]},
             "rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]}"""));
    String crbs = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    ok(
        as(
            "admin",
            "POST",
            crbs,
            """
            {"metadata":{"name":"gc-owned","finalizers":["orphan"]},
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
                        "name":"cluster-admin"},
             "subjects":[{"kind":"User","name":"someone"}]}"""));
    // As the GC does: the object as read, without its finalizer, PUT back.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              ObjectNode role =
                  (ObjectNode) ok(as("controller-manager", "GET", crs + "/gc-owned", null));
              ((ObjectNode) role.path("metadata")).remove("finalizers");
              ok(as("controller-manager", "PUT", crs + "/gc-owned", role.toString()));
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              ObjectNode b =
                  (ObjectNode) ok(as("controller-manager", "GET", crbs + "/gc-owned", null));
              ((ObjectNode) b.path("metadata")).remove("finalizers");
              ok(as("controller-manager", "PUT", crbs + "/gc-owned", b.toString()));
            });
    // Widening: a role's rules beyond what it holds, itself added to a binding of cluster-admin.
    ObjectNode own =
        (ObjectNode)
            ok(as("controller-manager", "GET", crs + "/system:kube-controller-manager", null));
    ObjectNode create =
        ((com.fasterxml.jackson.databind.node.ArrayNode) own.path("rules")).addObject();
    create.putArray("verbs").add("create");
    create.putArray("apiGroups").add("*");
    create.putArray("resources").add("*");
    Response widen =
        as("controller-manager", "PUT", crs + "/system:kube-controller-manager", own.toString());
    assertThat(widen.code()).as(widen.body()).isEqualTo(403);
    assertThat(widen.json().path("message").asText())
        .contains("is attempting to grant RBAC permissions not currently held");
    ObjectNode b = (ObjectNode) ok(as("admin", "GET", crbs + "/gc-owned", null));
    ((com.fasterxml.jackson.databind.node.ArrayNode) b.path("subjects"))
        .addObject()
        .put("kind", "User")
        .put("apiGroup", "rbac.authorization.k8s.io")
        .put("name", "system:kube-controller-manager");
    Response self = as("controller-manager", "PUT", crbs + "/gc-owned", b.toString());
    assertThat(self.code()).as(self.body()).isEqualTo(403);
    assertThat(self.json().path("message").asText())
        .contains("is attempting to grant RBAC permissions not currently held");
  }

  @Test
  void impersonationNeedsTheImpersonateVerb() throws Exception {
    Response r =
        api.request(
            "GET",
            "/api/v1/nodes",
            null,
            null,
            null,
            "user-bob",
            "Impersonate-User",
            "system:kube-scheduler");
    forbidden(
        r,
        "users \"system:kube-scheduler\" is forbidden: User \"bob\" cannot impersonate resource"
            + " \"users\" in API group \"\" at the cluster scope");
    // An admin acting as the scheduler gets the scheduler's rights, not its own.
    ok(
        api.request(
            "GET",
            "/api/v1/nodes",
            null,
            null,
            null,
            "admin",
            "Impersonate-User",
            "system:kube-scheduler"));
    forbidden(
        api.request(
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            "application/json",
            "{\"metadata\":{\"name\":\"d\"}}",
            null,
            "admin",
            "Impersonate-User",
            "system:kube-scheduler"),
        "deployments.apps is forbidden: User \"system:kube-scheduler\" cannot create resource"
            + " \"deployments\" in API group \"apps\" in the namespace \"default\"");
    assertThat(
            api.request(
                    "GET",
                    "/api/v1/nodes",
                    null,
                    null,
                    null,
                    "admin",
                    "Impersonate-Group",
                    "system:masters")
                .code())
        .isEqualTo(400);
  }

  /**
   * The real kubectl: it sends no bearer token over plain HTTP, so this API server trusts every
   * connection as an admin (Authenticator.NONE, as a local demo does) and kubectl impersonates the
   * components with {@code --as}.
   */
  @Test
  void realKubectlAuthCanIAndTables() throws Exception {
    try (ApiServerFixture open =
        ApiServerFixture.start(
            o -> o.withAuthorization(AuthorizerChain.of(List.of("Node", "RBAC"))))) {
      Kubectl kubectl = new Kubectl(dir, open.url());
      Kubectl.Result yes =
          kubectl.run(
              "auth",
              "can-i",
              "create",
              "pods",
              "--subresource=binding",
              "--as=system:kube-scheduler");
      assertThat(yes.output().trim()).isEqualTo("yes");
      assertThat(yes.exitCode()).isZero();
      Kubectl.Result no =
          kubectl.run("auth", "can-i", "create", "deployments.apps", "--as=system:kube-scheduler");
      assertThat(no.output().trim()).isEqualTo("no");
      assertThat(no.exitCode()).isEqualTo(1);
      Kubectl.Result node =
          kubectl.run(
              "auth",
              "can-i",
              "list",
              "pods",
              "-A",
              "--as=system:node:n1",
              "--as-group=system:nodes");
      assertThat(node.output()).contains("no");
      assertThat(node.exitCode()).isEqualTo(1);
      Kubectl.Result refused =
          kubectl.run("create", "deployment", "web", "--image=nginx", "--as=system:kube-scheduler");
      assertThat(refused.exitCode()).isNotZero();
      assertThat(refused.output())
          .contains(
              "deployments.apps is forbidden: User \"system:kube-scheduler\" cannot create"
                  + " resource \"deployments\" in API group \"apps\" in the namespace"
                  + " \"default\"");
      // auth can-i --list (a SelfSubjectRulesReview): the scheduler's role, line by line.
      String list = kubectl.ok("auth", "can-i", "--list", "--as=system:kube-scheduler");
      assertThat(list)
          .containsPattern("bindings\\s+\\[\\]\\s+\\[\\]\\s+\\[create\\]")
          .containsPattern("selfsubjectaccessreviews\\.authorization\\.k8s\\.io\\s")
          .doesNotContain("deployments");
      kubectl.ok(
          "create", "role", "reader", "--verb=get", "--resource=configmaps", "--resource-name=app");
      kubectl.ok("create", "rolebinding", "bob-reads", "--role=reader", "--user=bob");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(kubectl.ok("auth", "can-i", "--list", "--as=bob"))
                      .containsPattern("configmaps\\s+\\[\\]\\s+\\[app\\]\\s+\\[get\\]"));
      assertThat(kubectl.ok("auth", "can-i", "--list", "--as=bob", "-n", "kube-system"))
          .doesNotContain("configmaps");
      assertThat(kubectl.ok("auth", "can-i", "--list"))
          .containsPattern("\\*\\.\\*\\s+\\[\\]\\s+\\[\\]\\s+\\[\\*\\]");
      String bindings = kubectl.ok("get", "clusterrolebindings", "-o", "wide");
      assertThat(bindings)
          .contains("ROLE")
          .containsPattern("system:kube-scheduler\\s+ClusterRole/system:kube-scheduler")
          .contains("system:nodes");
    }
  }
}

package dev.kubelite.apiserver.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.apiserver.api.Json;
import org.junit.jupiter.api.Test;

/** How one PolicyRule matches request attributes, as Kubernetes' RBAC rule matching does. */
class RuleMatchTest {
  static RbacAuthorizer.Rule rule(String json) {
    return RbacAuthorizer.Rule.of(Json.parse(json.replace('\'', '"').getBytes(), "rule"));
  }

  static RequestAttributes res(
      String verb, String group, String resource, String sub, String name) {
    return new RequestAttributes(verb, true, group, resource, sub, "ns", name, "");
  }

  static RequestAttributes path(String verb, String path) {
    return new RequestAttributes(verb, false, null, null, null, null, null, path);
  }

  @Test
  void wildcardsAndSubresources() {
    RbacAuthorizer.Rule all = rule("{'verbs':['*'],'apiGroups':['*'],'resources':['*']}");
    assertThat(all.allows(res("delete", "apps", "deployments", "scale", "x"))).isTrue();
    assertThat(all.allows(path("get", "/healthz"))).isFalse();

    RbacAuthorizer.Rule pods = rule("{'verbs':['get'],'apiGroups':[''],'resources':['pods']}");
    assertThat(pods.allows(res("get", "", "pods", null, "p"))).isTrue();
    assertThat(pods.allows(res("get", "", "pods", "log", "p"))).isFalse();
    assertThat(pods.allows(res("get", "apps", "pods", null, "p"))).isFalse();
    assertThat(pods.allows(res("list", "", "pods", null, null))).isFalse();

    RbacAuthorizer.Rule anyStatus =
        rule("{'verbs':['update'],'apiGroups':['','apps'],'resources':['*/status']}");
    assertThat(anyStatus.allows(res("update", "apps", "deployments", "status", "d"))).isTrue();
    assertThat(anyStatus.allows(res("update", "apps", "deployments", null, "d"))).isFalse();
    assertThat(anyStatus.allows(res("update", "apps", "deployments", "scale", "d"))).isFalse();

    RbacAuthorizer.Rule log = rule("{'verbs':['get'],'apiGroups':[''],'resources':['pods/log']}");
    assertThat(log.allows(res("get", "", "pods", "log", "p"))).isTrue();
    assertThat(log.allows(res("get", "", "pods", null, "p"))).isFalse();
  }

  @Test
  void resourceNamesNeedANamedRequest() {
    RbacAuthorizer.Rule one =
        rule(
            "{'verbs':['get','update','list'],'apiGroups':[''],'resources':['configmaps'],"
                + "'resourceNames':['a']}");
    assertThat(one.allows(res("get", "", "configmaps", null, "a"))).isTrue();
    assertThat(one.allows(res("get", "", "configmaps", null, "b"))).isFalse();
    assertThat(one.allows(res("list", "", "configmaps", null, null))).isFalse();
  }

  @Test
  void nonResourceUrlsWithTrailingStar() {
    RbacAuthorizer.Rule r =
        rule("{'verbs':['get'],'nonResourceURLs':['/healthz','/apis/*','/version']}");
    assertThat(r.allows(path("get", "/healthz"))).isTrue();
    assertThat(r.allows(path("get", "/healthz/etcd"))).isFalse();
    assertThat(r.allows(path("get", "/apis/apps/v1"))).isTrue();
    assertThat(r.allows(path("get", "/apis"))).isFalse();
    assertThat(r.allows(path("post", "/version"))).isFalse();
    assertThat(r.allows(res("get", "", "pods", null, null))).isFalse();
    assertThat(rule("{'verbs':['*'],'nonResourceURLs':['*']}").allows(path("delete", "/x")))
        .isTrue();
  }

  @Test
  void beforeThePolicyIsLoadedTheChainAnswers503NotA403() {
    AuthorizerChain chain = AuthorizerChain.of(java.util.List.of("Node", "RBAC"));
    UserInfo scheduler =
        new UserInfo("system:kube-scheduler", "", java.util.List.of("system:authenticated"));
    dev.kubelite.apiserver.api.ApiException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            dev.kubelite.apiserver.api.ApiException.class,
            () -> chain.authorize(scheduler, res("list", "", "pods", null, null)));
    assertThat(e.code()).isEqualTo(503);
    assertThat(e.getMessage()).contains("RBAC policy is not loaded yet");
    // Masters pass all the same; without RBAC among the modes, a refusal stays a 403.
    chain.authorize(
        new UserInfo("admin", "", java.util.List.of("system:masters")),
        res("list", "", "pods", null, null));
    dev.kubelite.apiserver.api.ApiException denied =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            dev.kubelite.apiserver.api.ApiException.class,
            () ->
                AuthorizerChain.of(java.util.List.of("AlwaysDeny"))
                    .authorize(scheduler, res("list", "", "pods", null, null)));
    assertThat(denied.code()).isEqualTo(403);
  }
}

package dev.kubelite.apiserver.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.apiserver.audit.AuditPolicy.Level;
import dev.kubelite.apiserver.audit.AuditPolicy.Stage;
import dev.kubelite.apiserver.auth.RequestAttributes;
import dev.kubelite.apiserver.auth.UserInfo;
import dev.kubelite.apiserver.http.RequestInfo;
import io.vertx.core.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kubernetes' audit Policy format: rule matching, stages, and refusals of bad files. */
class AuditPolicyTest {
  @TempDir Path dir;

  static final UserInfo SCHEDULER =
      new UserInfo("system:kube-scheduler", "", List.of("system:authenticated"));
  static final UserInfo NODE =
      new UserInfo("system:node:n1", "", List.of("system:nodes", "system:authenticated"));

  AuditPolicy load(String yaml) throws Exception {
    Path p = dir.resolve("p.yaml");
    Files.writeString(p, yaml);
    return AuditPolicy.load(p);
  }

  static RequestAttributes req(String method, String path, boolean watch) {
    return RequestAttributes.resource(
        HttpMethod.valueOf(method), RequestInfo.parse(path), watch, path);
  }

  @Test
  void theFirstMatchingRuleDecidesAndUnmatchedRequestsAreNotAudited() throws Exception {
    AuditPolicy p =
        load(
            """
            apiVersion: audit.k8s.io/v1
            kind: Policy
            omitStages: [RequestReceived]
            rules:
              - level: None
                users: ["system:kube-scheduler"]
                verbs: [watch]
              - level: RequestResponse
                userGroups: ["system:nodes"]
                resources:
                  - group: ""
                    resources: ["pods/status", "nodes/*"]
                omitStages: [ResponseStarted]
              - level: Request
                namespaces: [kube-system]
              - level: Metadata
                resources:
                  - group: apps
                    resources: ["*"]
                    resourceNames: [web]
              - level: Metadata
                nonResourceURLs: ["/healthz*"]
            """);
    assertThat(p.decide(SCHEDULER, req("GET", "/api/v1/pods", true)).level()).isEqualTo(Level.None);
    var status = p.decide(NODE, req("PUT", "/api/v1/namespaces/default/pods/p/status", false));
    assertThat(status.level()).isEqualTo(Level.RequestResponse);
    assertThat(status.omitStages())
        .containsExactlyInAnyOrder(Stage.RequestReceived, Stage.ResponseStarted);
    assertThat(status.writes(Stage.ResponseComplete)).isTrue();
    assertThat(p.decide(NODE, req("GET", "/api/v1/nodes/n1/status", false)).level())
        .isEqualTo(Level.RequestResponse);
    // pods (no subresource) is not pods/status.
    assertThat(p.decide(NODE, req("GET", "/api/v1/namespaces/default/pods/p", false)).level())
        .isEqualTo(Level.None);
    assertThat(
            p.decide(SCHEDULER, req("POST", "/api/v1/namespaces/kube-system/configmaps", false))
                .level())
        .isEqualTo(Level.Metadata); // Request, capped: ConfigMaps never above Metadata.
    assertThat(
            p.decide(SCHEDULER, req("POST", "/api/v1/namespaces/kube-system/events", false))
                .level())
        .isEqualTo(Level.Request);
    assertThat(
            p.decide(
                    SCHEDULER,
                    req("GET", "/apis/apps/v1/namespaces/default/deployments/web", false))
                .level())
        .isEqualTo(Level.Metadata);
    assertThat(
            p.decide(
                    SCHEDULER, req("GET", "/apis/apps/v1/namespaces/default/deployments/db", false))
                .level())
        .isEqualTo(Level.None);
    assertThat(
            p.decide(SCHEDULER, RequestAttributes.nonResource(HttpMethod.GET, "/healthz/etcd"))
                .level())
        .isEqualTo(Level.Metadata);
    assertThat(
            p.decide(SCHEDULER, RequestAttributes.nonResource(HttpMethod.GET, "/version")).level())
        .isEqualTo(Level.None);
  }

  @Test
  void secretsAreNeverAuditedAboveMetadata() {
    AuditPolicy all = AuditPolicy.metadataForAll();
    assertThat(all.decide(NODE, req("GET", "/api/v1/namespaces/a/secrets/s", false)).level())
        .isEqualTo(Level.Metadata);
    assertThat(AuditPolicy.metadataOnly(req("GET", "/api/v1/namespaces/a/secrets/s", false)))
        .isTrue();
    assertThat(AuditPolicy.metadataOnly(req("GET", "/api/v1/namespaces/a/pods/s", false)))
        .isFalse();
  }

  @Test
  void badPoliciesAreRefusedWithWhereAndWhat() throws Exception {
    assertThatThrownBy(
            () -> load("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Loud\n"))
        .isInstanceOf(AuditPolicy.InvalidPolicyException.class)
        .hasMessageContaining("rules[0].level")
        .hasMessageContaining("\"Loud\" is not one of None, Metadata, Request, RequestResponse");
    assertThatThrownBy(() -> load("apiVersion: v1\nkind: ConfigMap\n"))
        .hasMessageContaining("expected kind Policy");
    assertThatThrownBy(
            () ->
                load(
                    "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Sometimes]\nrules: []\n"))
        .hasMessageContaining("omitStages")
        .hasMessageContaining("\"Sometimes\"");
    assertThatThrownBy(
            () ->
                load(
                    "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n"
                        + "    namespaces: [a]\n    nonResourceURLs: [/x]\n"))
        .hasMessageContaining("not both");
    assertThatThrownBy(() -> AuditPolicy.load(dir.resolve("missing.yaml")))
        .hasMessageContaining("cannot read");
  }
}

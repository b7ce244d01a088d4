package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Resource;
import dev.kubelite.pki.TlsFiles;
import dev.kubelite.store.testing.EtcdProcess;
import dev.kubelite.store.testing.FreePorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubelite up} is secure by default: the PKI is made once and reused, the API server serves
 * HTTPS and refuses requests without credentials, each component has its own identity, the store
 * refuses etcdctl without a client certificate; the admin kubeconfig works with the real kubectl
 * and etcdctl.env with the real etcdctl; --insecure-port is an explicit plain-HTTP opt-in.
 */
class SecureUpTest {
  @TempDir Path dir;

  private AllInOne start(int nodes, int insecurePort) throws Exception {
    return AllInOne.start(
        AllInOne.Options.builder(dir, FreePorts.next(), FreePorts.next(), FreePorts.next())
            .nodes(nodes)
            .insecurePort(insecurePort)
            .build());
  }

  /** A client that trusts the cluster's CA and presents no certificate of its own. */
  private static HttpClient withoutClientCertificate(AllInOne c) throws Exception {
    return HttpClient.newBuilder()
        .sslContext(TlsFiles.sslContext(c.pki().ca().cert(), null, null))
        .build();
  }

  private static String whoami(Path kubeconfig) {
    KubeClient k = KubeClient.fromConfig(KubeConfig.parse(kubeconfig));
    JsonNode r =
        k.call(
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            "application/json",
            KubeClient.JSON.createObjectNode());
    return r.path("status").path("userInfo").path("username").asText();
  }

  @Test
  void httpsWithOwnIdentitiesAndThePkiReusedOnRestart() throws Exception {
    byte[] ca;
    try (AllInOne c = start(2, 0)) {
      assertThat(c.apiUrl().getScheme()).isEqualTo("https");
      ca = Files.readAllBytes(c.pki().ca().cert());
      assertThat(whoami(c.kubeconfig())).isEqualTo("kubernetes-admin");
      assertThat(whoami(dir.resolve("scheduler.conf"))).isEqualTo("system:kube-scheduler");
      assertThat(whoami(dir.resolve("controller-manager.conf")))
          .isEqualTo("system:kube-controller-manager");
      assertThat(whoami(dir.resolve("kubelet").resolve("node-1.conf")))
          .isEqualTo("system:node:node-1");
      assertThat(whoami(dir.resolve("kubelet.conf"))).isEqualTo("kubelite:simulated-kubelet");
      assertThat(Files.getPosixFilePermissions(c.kubeconfig()))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      // The simulated nodes registered through their own credentials.
      KubeClient admin = KubeClient.fromConfig(KubeConfig.parse(c.kubeconfig()));
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> admin.list(Resource.NODES, null, ListOptions.NONE).path("items").size() == 2);

      // No credentials: 401 with a Status; a client without the CA cannot even connect.
      HttpClient anonymous = withoutClientCertificate(c);
      HttpResponse<String> r =
          anonymous.send(
              HttpRequest.newBuilder(c.apiUrl().resolve("/api/v1/namespaces")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.body()).contains("\"reason\":\"Unauthorized\"");
      KubeClient untrusted = new KubeClient(c.apiUrl());
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> untrusted.list(Resource.NODES, null, ListOptions.NONE))
          .isInstanceOf(java.io.UncheckedIOException.class);
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  new KubeClient(URI.create("http://127.0.0.1:" + c.apiUrl().getPort()))
                      .list(Resource.NODES, null, ListOptions.NONE))
          .isNotInstanceOf(ApiException.class);
    }
    // A data dir from before Node,RBAC had no simulated-nodes certificate nor kubelet.conf: they
    // are added, everything else reused, and the nodes work under RBAC.
    Files.delete(dir.resolve("pki").resolve("kubelite-simulated-nodes.crt"));
    Files.delete(dir.resolve("pki").resolve("kubelite-simulated-nodes.key"));
    Files.delete(dir.resolve("kubelet.conf"));
    byte[] adminCert = Files.readAllBytes(dir.resolve("pki").resolve("admin.crt"));
    java.time.Instant restarted = java.time.Instant.now();
    try (AllInOne c = start(1, 0)) {
      assertThat(Files.readAllBytes(c.pki().ca().cert())).isEqualTo(ca);
      assertThat(Files.readAllBytes(c.pki().admin().cert())).isEqualTo(adminCert);
      assertThat(whoami(c.kubeconfig())).isEqualTo("kubernetes-admin");
      assertThat(whoami(dir.resolve("kubelet.conf"))).isEqualTo("kubelite:simulated-kubelet");
      KubeClient admin = KubeClient.fromConfig(KubeConfig.parse(c.kubeconfig()));
      // The node heartbeats again, as the simulated kubelet (its Lease renewed since the start).
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(
              () ->
                  java.time.Instant.parse(
                          admin
                              .get(Resource.LEASES, "kube-node-lease", "node-1")
                              .path("spec")
                              .path("renewTime")
                              .asText())
                      .isAfter(restarted));
      assertThat(
              Refusals.ofComponents(List.of(dir.resolve("logs").resolve("audit.log")), r -> false))
          .isEmpty();
    }
  }

  private static final Resource CLUSTER_ROLE_BINDINGS =
      new Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", false);

  private static KubeClient client(Path kubeconfig) {
    return KubeClient.fromConfig(KubeConfig.parse(kubeconfig));
  }

  private static ObjectNode deployment(String name, int replicas) {
    ObjectNode d = KubeClient.JSON.createObjectNode();
    d.put("apiVersion", "apps/v1").put("kind", "Deployment");
    d.putObject("metadata").put("name", name);
    ObjectNode spec = d.putObject("spec").put("replicas", replicas);
    spec.putObject("selector").putObject("matchLabels").put("app", name);
    ObjectNode tmpl = spec.putObject("template");
    tmpl.putObject("metadata").putObject("labels").put("app", name);
    tmpl.putObject("spec").putArray("containers").addObject().put("name", "app").put("image", "x");
    return d;
  }

  private static ApiException refused(Runnable call) {
    try {
      call.run();
    } catch (ApiException e) {
      return e;
    }
    throw new AssertionError("the request was allowed");
  }

  /**
   * Issue 7's "tries to get in where it shouldn't", on a real {@code up} (Node,RBAC), through the
   * kubeconfigs it wrote: each component works with its own identity and nothing more.
   */
  @Test
  void eachComponentDoesItsWorkAndNothingElse() throws Exception {
    try (AllInOne c = start(2, 0)) {
      KubeClient admin = client(c.kubeconfig());
      // The legitimate paths: the controllers make the pods, the scheduler binds them, the nodes
      // run them, each as itself.
      admin.create(Resource.DEPLOYMENTS, "default", deployment("web", 3));
      await()
          .atMost(Duration.ofSeconds(90))
          .until(
              () -> {
                int running = 0;
                for (JsonNode p :
                    admin
                        .list(Resource.PODS, "default", ListOptions.labels("app=web"))
                        .path("items")) {
                  if (p.path("status").path("phase").asText().equals("Running")
                      && !p.path("spec").path("nodeName").asText().isEmpty()) {
                    running++;
                  }
                }
                return running == 3;
              });

      // The scheduler's identity creating a Deployment: refused, in kube-apiserver's words, to the
      // real kubectl.
      Kubectl asScheduler =
          Kubectl.withKubeconfig(
              Files.createDirectories(dir.resolve("kubectl-scheduler")),
              Files.readString(dir.resolve("scheduler.conf")));
      Kubectl.Result r = asScheduler.run("create", "deployment", "intruder", "--image=nginx");
      assertThat(r.exitCode()).isNotZero();
      assertThat(r.output())
          .contains(
              "deployments.apps is forbidden: User"
                  + " \"system:kube-scheduler\" cannot create resource \"deployments\" in API group"
                  + " \"apps\" in the namespace \"default\"");
      // ... and what it does do, it may: read nodes.
      assertThat(asScheduler.ok("get", "nodes", "-o", "name")).contains("node/node-1");

      // The simulated nodes' identity deleting a namespace: 403.
      KubeClient nodes = client(dir.resolve("kubelet.conf"));
      ApiException e = refused(() -> nodes.delete(Resource.NAMESPACES, null, "default"));
      assertThat(e.code()).isEqualTo(403);
      assertThat(e.getMessage())
          .contains(
              "namespaces \"default\" is forbidden: User \"kubelite:simulated-kubelet\" cannot"
                  + " delete resource \"namespaces\" in API group \"\" in the namespace \"default\"");
      // One node's own identity reading every pod: the Node authorizer refuses.
      KubeClient node1 = client(dir.resolve("kubelet").resolve("node-1.conf"));
      ApiException all = refused(() -> node1.list(Resource.PODS, null, ListOptions.NONE));
      assertThat(all.code()).isEqualTo(403);
      assertThat(all.getMessage()).contains("can only list/watch pods with spec.nodeName=node-1");
      // The controller manager cannot grant itself more.
      KubeClient cm = client(dir.resolve("controller-manager.conf"));
      ObjectNode crb = KubeClient.JSON.createObjectNode();
      crb.put("apiVersion", "rbac.authorization.k8s.io/v1").put("kind", "ClusterRoleBinding");
      crb.putObject("metadata").put("name", "cm-admin");
      crb.putObject("roleRef")
          .put("apiGroup", "rbac.authorization.k8s.io")
          .put("kind", "ClusterRole")
          .put("name", "cluster-admin");
      crb.putArray("subjects")
          .addObject()
          .put("kind", "User")
          .put("name", "system:kube-controller-manager");
      assertThat(refused(() -> cm.create(CLUSTER_ROLE_BINDINGS, null, crb)).code()).isEqualTo(403);

      // No client certificate: 401.
      HttpClient anonymous = withoutClientCertificate(c);
      HttpResponse<String> none =
          anonymous.send(
              HttpRequest.newBuilder(c.apiUrl().resolve("/apis/apps/v1/deployments")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(none.statusCode()).isEqualTo(401);

      // The admin may do anything, RBAC objects included.
      admin.create(CLUSTER_ROLE_BINDINGS, null, crb);
      admin.delete(CLUSTER_ROLE_BINDINGS, null, "cm-admin");
      admin.create(Resource.DEPLOYMENTS, "default", deployment("admin-made", 0));

      // No component was refused in its own work (the audit log has every 403): only the
      // refusals this test asked for.
      Path audit = dir.resolve("logs").resolve("audit.log");
      await().atMost(Duration.ofSeconds(10)).until(() -> Refusals.in(List.of(audit)).size() >= 4);
      assertThat(
              Refusals.ofComponents(
                  List.of(audit),
                  x ->
                      (x.user().equals("system:kube-scheduler")
                              && x.resource().equals("deployments"))
                          || (x.user().equals("kubelite:simulated-kubelet")
                              && x.verb().equals("delete")
                              && x.resource().equals("namespaces"))
                          || (x.user().equals("system:node:node-1") && x.verb().equals("list"))
                          || (x.user().equals("system:kube-controller-manager")
                              && x.resource().equals("clusterrolebindings"))))
          .isEmpty();
    }
  }

  @Test
  void realKubectlWithTheAdminKubeconfig() throws Exception {
    try (AllInOne c = start(0, 0)) {
      Kubectl kubectl = Kubectl.withKubeconfig(dir, Files.readString(c.kubeconfig()));
      assertThat(kubectl.ok("get", "namespaces", "-o", "name")).contains("namespace/default");
      assertThat(kubectl.ok("create", "configmap", "hello", "--from-literal=a=b"))
          .contains("configmap/hello created");
      assertThat(kubectl.ok("auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"))
          .contains("system:masters");
      // Every namespace gets its "default" ServiceAccount, and a token of it authenticates.
      kubectl.ok("create", "namespace", "team-a");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  kubectl.run("get", "serviceaccount", "default", "-n", "team-a").exitCode() == 0);
      String token = kubectl.ok("create", "token", "default", "-n", "team-a").strip();
      // The token alone (no client certificate, which would win): who does it make us?
      HttpClient tokenOnly = withoutClientCertificate(c);
      HttpResponse<String> review =
          tokenOnly.send(
              HttpRequest.newBuilder(
                      c.apiUrl().resolve("/apis/authentication.k8s.io/v1/selfsubjectreviews"))
                  .header("Authorization", "Bearer " + token)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"apiVersion\":\"authentication.k8s.io/v1\","
                              + "\"kind\":\"SelfSubjectReview\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(review.statusCode()).as(review.body()).isEqualTo(201);
      assertThat(review.body()).contains("\"username\":\"system:serviceaccount:team-a:default\"");
    }
  }

  @Test
  void theStoreRefusesEtcdctlWithoutAClientCertificate() throws Exception {
    String etcdctl = EtcdProcess.binary("etcdctl");
    try (AllInOne c = start(0, 0)) {
      String env = Files.readString(c.etcdctlEnv());
      assertThat(env).contains("ETCDCTL_ENDPOINTS=https://", "ETCDCTL_CACERT=", "ETCDCTL_KEY=");
      // The CA only: TLS, but no client certificate → refused.
      Process p =
          new ProcessBuilder(
                  "bash",
                  "-c",
                  "source \"$1\" && unset ETCDCTL_CERT ETCDCTL_KEY && \"$2\""
                      + " --dial-timeout=3s --command-timeout=5s get / --prefix --keys-only",
                  "etcdctl-env",
                  c.etcdctlEnv().toString(),
                  etcdctl)
              .redirectErrorStream(true)
              .start();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(out).isNotZero();
      assertThat(out).doesNotContain("/registry/");
    }
  }

  @Test
  void insecurePortIsAnExplicitPlainHttpOptIn() throws Exception {
    try (AllInOne c = start(0, FreePorts.next())) {
      assertThat(c.insecureUrl().getScheme()).isEqualTo("http");
      KubeClient plain = new KubeClient(c.insecureUrl());
      assertThat(plain.get(Resource.NAMESPACES, null, "default").path("kind").asText())
          .isEqualTo("Namespace");
    }
  }
}

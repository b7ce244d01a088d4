package dev.kubelite.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
        new AllInOne.Options(
            dir,
            "127.0.0.1",
            FreePorts.next(),
            FreePorts.next(),
            FreePorts.next(),
            nodes,
            false,
            false,
            insecurePort));
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
      assertThat(Files.getPosixFilePermissions(c.kubeconfig()))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      // The simulated nodes registered through their own credentials.
      KubeClient admin = KubeClient.fromConfig(KubeConfig.parse(c.kubeconfig()));
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> admin.list(Resource.NODES, null, ListOptions.NONE).path("items").size() == 2);

      // No credentials: 401 with a Status; a client without the CA cannot even connect.
      HttpClient anonymous =
          HttpClient.newBuilder()
              .sslContext(TlsFiles.sslContext(c.pki().ca().cert(), null, null))
              .build();
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
    try (AllInOne c = start(0, 0)) {
      assertThat(Files.readAllBytes(c.pki().ca().cert())).isEqualTo(ca);
      assertThat(whoami(c.kubeconfig())).isEqualTo("kubernetes-admin");
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

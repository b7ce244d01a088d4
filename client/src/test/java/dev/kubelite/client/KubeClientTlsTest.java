package dev.kubelite.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubelite.apiserver.auth.ServiceAccountTokens;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.pki.PemFiles;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KubeClient over HTTPS from kubeconfigs, as kubectl reads them: files, -data, tokens. */
class KubeClientTlsTest {
  static Cluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = Cluster.secure();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static String b64(Path p) throws Exception {
    return Base64.getEncoder().encodeToString(Files.readAllBytes(p));
  }

  @Test
  void certificateFilesInTheKubeconfig() throws Exception {
    KubeClient c = cluster.client(cluster.pki.admin());
    assertThat(c.get(Resource.NAMESPACES, null, "default").path("kind").asText())
        .isEqualTo("Namespace");
    assertThat(
            c.call(
                    "POST",
                    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                    "application/json",
                    KubeClient.JSON.createObjectNode())
                .path("status")
                .path("userInfo")
                .path("username")
                .asText())
        .isEqualTo("kubernetes-admin");
  }

  @Test
  void embeddedDataAndRelativePaths() throws Exception {
    Path dir = Files.createTempDirectory(cluster.dir, "kc");
    Files.copy(cluster.pki.ca().cert(), dir.resolve("ca.crt"));
    Path file = dir.resolve("config");
    Files.writeString(
        file,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: %s
            certificate-authority: ca.crt
        users:
        - name: u
          user:
            client-certificate-data: %s
            client-key-data: %s
        contexts:
        - name: c
          context: {cluster: c, user: u}
        current-context: c
        """
            .formatted(
                cluster.url(),
                b64(cluster.pki.kubelets().get("node-1").cert()),
                b64(cluster.pki.kubelets().get("node-1").key())));
    KubeClient c = KubeClient.fromConfig(KubeConfig.parse(file));
    assertThat(
            c.call(
                    "POST",
                    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                    "application/json",
                    KubeClient.JSON.createObjectNode())
                .path("status")
                .path("userInfo")
                .path("username")
                .asText())
        .isEqualTo("system:node:node-1");
  }

  @Test
  void bearerTokenFromTokenFileAndRefusals() throws Exception {
    KubeClient admin = cluster.client(cluster.pki.admin());
    var sa =
        admin.create(
            new Resource("", "v1", "serviceaccounts", true),
            "default",
            (com.fasterxml.jackson.databind.node.ObjectNode)
                KubeClient.JSON.readTree("{\"metadata\":{\"name\":\"bot\"}}"));
    String token =
        ServiceAccountTokens.sign(
            PemFiles.readKey(cluster.pki.serviceAccountKey()),
            ServiceAccountTokens.DEFAULT_ISSUER,
            List.of(ServiceAccountTokens.DEFAULT_ISSUER),
            "default",
            "bot",
            sa.path("metadata").path("uid").asText(),
            Instant.now(),
            Duration.ofHours(1));
    Path dir = Files.createTempDirectory(cluster.dir, "kc");
    Files.writeString(dir.resolve("token"), token + "\n");
    String config =
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: %s
            certificate-authority-data: %s
        users:
        - name: u
          user:
            tokenFile: token
        contexts:
        - name: c
          context: {cluster: c, user: u}
        current-context: c
        """
            .formatted(cluster.url(), b64(cluster.pki.ca().cert()));
    Files.writeString(dir.resolve("config"), config);
    KubeClient c = KubeClient.fromConfig(KubeConfig.parse(dir.resolve("config")));
    assertThat(c.list(Resource.PODS, "default", ListOptions.NONE).path("kind").asText())
        .isEqualTo("PodList");

    // No credentials: 401 as an ApiException carrying the Status.
    Files.writeString(dir.resolve("config"), config.replace("tokenFile: token", "{}"));
    KubeClient nobody = KubeClient.fromConfig(KubeConfig.parse(dir.resolve("config")));
    assertThatThrownBy(() -> nobody.list(Resource.PODS, "default", ListOptions.NONE))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(401));

    // A server whose CA is not trusted: the handshake fails.
    Files.writeString(
        dir.resolve("config"),
        config.replaceAll("certificate-authority-data: .*", "certificate-authority-data: \"\""));
    KubeClient untrusting = KubeClient.fromConfig(KubeConfig.parse(dir.resolve("config")));
    assertThatThrownBy(() -> untrusting.list(Resource.PODS, "default", ListOptions.NONE))
        .isInstanceOf(UncheckedIOException.class);
  }
}

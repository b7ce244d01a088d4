package dev.kubelite.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubelite.apiserver.auth.AuthenticationConfig;
import dev.kubelite.apiserver.auth.ServiceAccountTokens;
import dev.kubelite.apiserver.auth.TokenFile;
import dev.kubelite.apiserver.testing.Kubectl;
import dev.kubelite.pki.PemFiles;
import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiSpec;
import dev.kubelite.pki.TlsFiles;
import dev.kubelite.store.client.EmbeddedKvStore;
import dev.kubelite.store.client.KvStore;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import dev.kubelite.store.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API server over HTTPS with kube-apiserver's authenticators: what gets in (client certificates
 * of the cluster CA, static tokens, ServiceAccount tokens of existing accounts, the real kubectl
 * with an admin kubeconfig) and what does not (nothing, a certificate of another CA, an expired
 * certificate, an unknown token, a token of a deleted or recreated ServiceAccount).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthenticationTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  PkiPaths pki;
  PkiPaths otherPki;
  PkiPaths expiredPki;
  StoreServer storeServer;
  KvStore kv;
  ApiServer api;

  @BeforeAll
  void start() throws Exception {
    PkiSpec spec = PkiSpec.defaults().withKubeletNodes(List.of("node-1"));
    pki = Pki.ensure(dir.resolve("pki"), spec);
    otherPki = Pki.ensure(dir.resolve("other-pki"), spec);
    // The same cluster CA, and a kubelet certificate issued two years ago for a year: expired.
    Path expiredDir = dir.resolve("expired-pki");
    Files.createDirectories(expiredDir.resolve("etcd"));
    for (String f : List.of("ca.crt", "ca.key", "etcd/ca.crt", "etcd/ca.key")) {
      Files.copy(pki.dir().resolve(f), expiredDir.resolve(f));
    }
    expiredPki =
        Pki.ensure(
            expiredDir,
            spec,
            Clock.fixed(Instant.now().minus(Duration.ofDays(730)), ZoneOffset.UTC));
    Files.writeString(
        dir.resolve("tokens.csv"),
        "s3cr3t-token,alice,uid-alice,\"dev,qa\"\n# a comment-looking line still has 3 columns,x,y\n");
    int clientPort = FreePorts.next();
    int peerPort = FreePorts.next();
    String client = "http://127.0.0.1:" + clientPort;
    String peer = "http://127.0.0.1:" + peerPort;
    storeServer =
        StoreServer.start(
            MemberConfig.fromFlags(
                "m1",
                dir.resolve("store").toString(),
                client,
                client,
                peer,
                peer,
                null,
                null,
                "authn-test"));
    kv = EmbeddedKvStore.of(storeServer);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> kv.currentRevision().get(5, TimeUnit.SECONDS) >= 1);
    api =
        ApiServer.start(
            kv,
            new ApiServer.Options("127.0.0.1", 0)
                .withTls(
                    new ApiServer.ServingTls(
                        pki.apiserver().cert(), pki.apiserver().key(), pki.ca().cert()))
                .withAuthentication(
                    AuthenticationConfig.x509Only()
                        .withTokenFile(TokenFile.load(dir.resolve("tokens.csv")))
                        .withServiceAccountKeys(
                            List.of(PemFiles.readPublicKey(pki.serviceAccountPublicKey())))
                        .withSigningKey(PemFiles.readKey(pki.serviceAccountKey()))));
  }

  @AfterAll
  void stop() {
    if (api != null) {
      api.close();
    }
    if (kv != null) {
      kv.close();
    }
    if (storeServer != null) {
      storeServer.close();
    }
  }

  String url() {
    return "https://127.0.0.1:" + api.port();
  }

  HttpClient client(SSLContext ssl) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .sslContext(ssl)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
  }

  HttpClient anonymousClient() {
    return client(TlsFiles.sslContext(pki.ca().cert(), null, null));
  }

  HttpClient certClient(PkiPaths.CertPaths cert) {
    return client(TlsFiles.sslContext(pki.ca().cert(), cert));
  }

  HttpResponse<String> send(HttpClient c, String method, String path, String token, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url() + path)).timeout(Duration.ofSeconds(30));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.header("Content-Type", "application/json");
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  JsonNode whoami(HttpClient c, String token) throws Exception {
    HttpResponse<String> r =
        send(
            c,
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            token,
            "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return JSON.readTree(r.body()).path("status").path("userInfo");
  }

  static void assertUnauthorized(HttpResponse<String> r) throws IOException {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    JsonNode s = JSON.readTree(r.body());
    assertThat(s.path("kind").asText()).isEqualTo("Status");
    assertThat(s.path("status").asText()).isEqualTo("Failure");
    assertThat(s.path("reason").asText()).isEqualTo("Unauthorized");
    assertThat(s.path("message").asText()).isEqualTo("Unauthorized");
    assertThat(s.path("code").asInt()).isEqualTo(401);
  }

  @Test
  void noCredentialsIs401EvenForHealthAndVersion() throws Exception {
    HttpClient c = anonymousClient();
    assertUnauthorized(send(c, "GET", "/api/v1/namespaces", null, null));
    assertUnauthorized(send(c, "GET", "/version", null, null));
    assertUnauthorized(send(c, "GET", "/readyz", null, null));
  }

  @Test
  void plainHttpToTheHttpsPortGetsNoApi() {
    HttpClient plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    assertThatThrownBy(
            () ->
                plain.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + api.port() + "/api/v1/namespaces"))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void adminClientCertificateIsTheAdminWithItsGroups() throws Exception {
    HttpClient c = certClient(pki.admin());
    assertThat(send(c, "GET", "/api/v1/namespaces", null, null).statusCode()).isEqualTo(200);
    JsonNode u = whoami(c, null);
    assertThat(u.path("username").asText()).isEqualTo("kubernetes-admin");
    assertThat(u.path("groups").toString())
        .isEqualTo("[\"system:masters\",\"system:authenticated\"]");
  }

  @Test
  void kubeletCertificateIsItsNode() throws Exception {
    JsonNode u = whoami(certClient(pki.kubelets().get("node-1")), null);
    assertThat(u.path("username").asText()).isEqualTo("system:node:node-1");
    assertThat(u.path("groups").toString())
        .isEqualTo("[\"system:nodes\",\"system:authenticated\"]");
  }

  @Test
  void certificateOfAnotherCaIsRefused() {
    HttpClient c = client(TlsFiles.sslContext(pki.ca().cert(), otherPki.admin()));
    assertThatThrownBy(() -> send(c, "GET", "/api/v1/namespaces", null, null))
        .isInstanceOf(IOException.class);
  }

  @Test
  void expiredCertificateOfTheClusterCaIsRefused() throws Exception {
    PkiPaths.CertPaths expired = expiredPki.kubelets().get("node-1");
    assertThat(PemFiles.readCertificate(expired.cert()).getNotAfter().toInstant())
        .isBefore(Instant.now());
    HttpClient c = client(TlsFiles.sslContext(pki.ca().cert(), expired));
    assertThatThrownBy(() -> send(c, "GET", "/api/v1/namespaces", null, null))
        .isInstanceOf(IOException.class);
  }

  @Test
  void staticTokenIsItsUser() throws Exception {
    JsonNode u = whoami(anonymousClient(), "s3cr3t-token");
    assertThat(u.path("username").asText()).isEqualTo("alice");
    assertThat(u.path("uid").asText()).isEqualTo("uid-alice");
    assertThat(u.path("groups").toString()).isEqualTo("[\"dev\",\"qa\",\"system:authenticated\"]");
  }

  @Test
  void unknownTokenIs401() throws Exception {
    assertUnauthorized(send(anonymousClient(), "GET", "/api/v1/pods", "nope", null));
    assertUnauthorized(send(anonymousClient(), "GET", "/api/v1/pods", "a.b.c", null));
  }

  @Test
  void serviceAccountTokenWorksUntilItsAccountIsDeletedOrRecreated() throws Exception {
    HttpClient admin = certClient(pki.admin());
    HttpClient plain = anonymousClient();
    String sa =
        "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"robot\"}}";
    HttpResponse<String> created =
        send(admin, "POST", "/api/v1/namespaces/default/serviceaccounts", null, sa);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String uid = JSON.readTree(created.body()).path("metadata").path("uid").asText();
    PrivateKey key = PemFiles.readKey(pki.serviceAccountKey());
    String token = mint(key, "robot", uid, Duration.ofHours(1));

    JsonNode u = whoami(plain, token);
    assertThat(u.path("username").asText()).isEqualTo("system:serviceaccount:default:robot");
    assertThat(u.path("uid").asText()).isEqualTo(uid);
    assertThat(u.path("groups").toString())
        .isEqualTo(
            "[\"system:serviceaccounts\",\"system:serviceaccounts:default\","
                + "\"system:authenticated\"]");
    assertThat(send(plain, "GET", "/api/v1/namespaces/default/pods", token, null).statusCode())
        .isEqualTo(200);

    // Expired, signed by another key, or for an account that does not exist: refused.
    assertUnauthorized(
        send(plain, "GET", "/api/v1/pods", mint(key, "robot", uid, Duration.ofHours(-2)), null));
    assertUnauthorized(
        send(
            plain,
            "GET",
            "/api/v1/pods",
            mint(PemFiles.readKey(otherPki.serviceAccountKey()), "robot", uid, Duration.ofHours(1)),
            null));
    assertUnauthorized(
        send(plain, "GET", "/api/v1/pods", mint(key, "ghost", uid, Duration.ofHours(1)), null));

    assertThat(
            send(admin, "DELETE", "/api/v1/namespaces/default/serviceaccounts/robot", null, null)
                .statusCode())
        .isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertUnauthorized(send(plain, "GET", "/api/v1/pods", token, null)));

    // Recreated under the same name: a new uid, so the old token stays refused.
    assertThat(
            send(admin, "POST", "/api/v1/namespaces/default/serviceaccounts", null, sa)
                .statusCode())
        .isEqualTo(201);
    assertUnauthorized(send(plain, "GET", "/api/v1/pods", token, null));
  }

  static String mint(PrivateKey key, String name, String uid, Duration ttl) {
    Instant now = Instant.now();
    return ServiceAccountTokens.sign(
        key,
        ServiceAccountTokens.DEFAULT_ISSUER,
        List.of(ServiceAccountTokens.DEFAULT_ISSUER),
        "default",
        name,
        uid,
        ttl.isNegative() ? now.plus(ttl).minus(Duration.ofHours(1)) : now,
        ttl.isNegative() ? Duration.ofHours(1) : ttl);
  }

  @Test
  void realKubectlWithAnAdminKubeconfigEmbeddingTheCertificates() throws Exception {
    Base64.Encoder b64 = Base64.getEncoder();
    String kubeconfig =
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: kubelite
          cluster:
            server: %s
            certificate-authority-data: %s
        users:
        - name: admin
          user:
            client-certificate-data: %s
            client-key-data: %s
        contexts:
        - name: kubelite
          context: {cluster: kubelite, user: admin, namespace: default}
        current-context: kubelite
        """
            .formatted(
                url(),
                b64.encodeToString(Files.readAllBytes(pki.ca().cert())),
                b64.encodeToString(Files.readAllBytes(pki.admin().cert())),
                b64.encodeToString(Files.readAllBytes(pki.admin().key())));
    Kubectl kubectl = Kubectl.withKubeconfig(dir, kubeconfig);
    assertThat(kubectl.ok("get", "namespaces", "-o", "name")).contains("namespace/kube-system");
    assertThat(kubectl.ok("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"))
        .isEqualTo("kubernetes-admin");
    // The same kubectl with the token instead of the certificate.
    Kubectl withToken =
        Kubectl.withKubeconfig(
            dir,
            kubeconfig
                .replaceAll("client-certificate-data: .*\n", "token: s3cr3t-token\n")
                .replaceAll("\\s+client-key-data: .*\n", "\n"));
    assertThat(withToken.ok("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"))
        .isEqualTo("alice");
    Kubectl nobody =
        Kubectl.withKubeconfig(
            dir,
            kubeconfig
                .replaceAll("client-certificate-data: .*\n", "token: wrong\n")
                .replaceAll("\\s+client-key-data: .*\n", "\n"));
    Kubectl.Result r = nobody.run("get", "pods");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.output()).contains("You must be logged in to the server");
  }

  @Test
  void tokenRequestHandsOutServiceAccountTokens() throws Exception {
    HttpClient admin = certClient(pki.admin());
    String sa =
        "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"builder\"}}";
    assertThat(
            send(admin, "POST", "/api/v1/namespaces/default/serviceaccounts", null, sa)
                .statusCode())
        .isEqualTo(201);
    HttpResponse<String> r =
        send(
            admin,
            "POST",
            "/api/v1/namespaces/default/serviceaccounts/builder/token",
            null,
            "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\","
                + "\"spec\":{\"expirationSeconds\":1200}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode tr = JSON.readTree(r.body());
    assertThat(tr.path("kind").asText()).isEqualTo("TokenRequest");
    assertThat(tr.path("spec").path("audiences").toString())
        .isEqualTo("[\"" + ServiceAccountTokens.DEFAULT_ISSUER + "\"]");
    Instant expires = Instant.parse(tr.path("status").path("expirationTimestamp").asText());
    assertThat(expires).isBetween(Instant.now().plusSeconds(1100), Instant.now().plusSeconds(1300));
    String token = tr.path("status").path("token").asText();
    assertThat(whoami(anonymousClient(), token).path("username").asText())
        .isEqualTo("system:serviceaccount:default:builder");

    // Too short, for a missing account, or by someone without credentials: refused.
    HttpResponse<String> shortLived =
        send(
            admin,
            "POST",
            "/api/v1/namespaces/default/serviceaccounts/builder/token",
            null,
            "{\"spec\":{\"expirationSeconds\":60}}");
    assertThat(shortLived.statusCode()).as(shortLived.body()).isEqualTo(422);
    assertThat(shortLived.body()).contains("may not specify a duration less than 10 minutes");
    assertThat(
            send(
                    admin,
                    "POST",
                    "/api/v1/namespaces/default/serviceaccounts/nobody/token",
                    null,
                    "{}")
                .statusCode())
        .isEqualTo(404);
    assertUnauthorized(
        send(
            anonymousClient(),
            "POST",
            "/api/v1/namespaces/default/serviceaccounts/builder/token",
            null,
            "{}"));

    // The real kubectl: `kubectl create token`, then use it.
    Base64.Encoder b64 = Base64.getEncoder();
    String kubeconfig =
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: kubelite
          cluster:
            server: %s
            certificate-authority-data: %s
        users:
        - name: admin
          user:
            client-certificate-data: %s
            client-key-data: %s
        contexts:
        - name: kubelite
          context: {cluster: kubelite, user: admin, namespace: default}
        current-context: kubelite
        """
            .formatted(
                url(),
                b64.encodeToString(Files.readAllBytes(pki.ca().cert())),
                b64.encodeToString(Files.readAllBytes(pki.admin().cert())),
                b64.encodeToString(Files.readAllBytes(pki.admin().key())));
    Kubectl kubectl = Kubectl.withKubeconfig(dir, kubeconfig);
    String minted = kubectl.ok("create", "token", "builder", "--duration=20m").strip();
    assertThat(whoami(anonymousClient(), minted).path("username").asText())
        .isEqualTo("system:serviceaccount:default:builder");
    JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(minted.split("\\.")[1]));
    assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(1200);
    assertThat(claims.path("kubernetes.io").path("serviceaccount").path("name").asText())
        .isEqualTo("builder");
    assertThat(kubectl.ok("create", "token", "builder", "--audience=vault")).isNotBlank();
  }

  @Test
  void anonymousWhenAllowedIsSystemAnonymous() throws Exception {
    try (ApiServer open =
        ApiServer.start(
            kv,
            new ApiServer.Options("127.0.0.1", 0)
                .withTls(
                    new ApiServer.ServingTls(
                        pki.apiserver().cert(), pki.apiserver().key(), pki.ca().cert()))
                .withAuthentication(AuthenticationConfig.x509Only().withAnonymous(true)))) {
      HttpClient c = anonymousClient();
      HttpResponse<String> r =
          c.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "https://127.0.0.1:"
                              + open.port()
                              + "/apis/authentication.k8s.io/v1/selfsubjectreviews"))
                  .POST(HttpRequest.BodyPublishers.ofString("{}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode u = JSON.readTree(r.body()).path("status").path("userInfo");
      assertThat(u.path("username").asText()).isEqualTo("system:anonymous");
      assertThat(u.path("groups").toString()).isEqualTo("[\"system:unauthenticated\"]");
      // A presented but unknown token is still refused, as in Kubernetes.
      HttpResponse<String> bad =
          c.send(
              HttpRequest.newBuilder(
                      URI.create("https://127.0.0.1:" + open.port() + "/api/v1/pods"))
                  .header("Authorization", "Bearer nope")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertUnauthorized(bad);
    }
  }
}

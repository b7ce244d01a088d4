package dev.kubelite.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster-CA trust manager (decision 0083): the JDK still validates the chain; the host name is
 * checked as Go's crypto/x509 does, through real TLS handshakes on the SSLEngine path the JDK HTTP
 * client takes, with the peer host the client believes it reached.
 */
class ClusterTrustManagerTest {
  @TempDir Path tmp;
  PkiPaths pki;

  @BeforeEach
  void pki() {
    pki =
        Pki.ensure(
            tmp.resolve("pki"),
            PkiSpec.defaults()
                .withHostName("testhost")
                .withExtraSans(List.of("*.apps.example.test", "10.1.2.3")));
  }

  @Test
  void aServerIsAcceptedForEachNameAndAddressItsCertificateHolds() throws Exception {
    SSLContext client = TlsFiles.sslContext(pki.ca().cert(), pki.admin());
    SSLContext server = TlsFiles.sslContext(pki.ca().cert(), pki.apiserver());
    for (String host :
        List.of(
            "127.0.0.1",
            "localhost",
            "LocalHost.",
            "::1",
            "[::1]",
            "testhost",
            "kubernetes.default.svc",
            "web.apps.example.test",
            "10.1.2.3")) {
      assertThatCode(() -> handshake(client, host, server)).as(host).doesNotThrowAnyException();
    }
  }

  @Test
  void aServerIsRefusedForANameOrAddressItsCertificateDoesNotHold() {
    SSLContext client = TlsFiles.sslContext(pki.ca().cert(), pki.admin());
    SSLContext server = TlsFiles.sslContext(pki.ca().cert(), pki.apiserver());
    for (String host :
        List.of(
            "127.0.0.2",
            "10.1.2.4",
            "other.example.test",
            "apps.example.test", // a wildcard stands for one label, not none
            "a.web.apps.example.test", // nor for two
            "kubernetes.default.svc.elsewhere",
            "kubernetes-admin")) { // a name in the subject's CN only does not count (as Go)
      assertThatThrownBy(() -> handshake(client, host, server))
          .as(host)
          .isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("the server's certificate is valid for localhost, testhost, ")
          .hasMessageEndingWith(", not " + host);
    }
  }

  @Test
  void theChainIsStillValidatedAgainstTheClusterCa() throws Exception {
    PkiPaths other = Pki.ensure(tmp.resolve("other"), PkiSpec.defaults());
    SSLContext client = TlsFiles.sslContext(pki.ca().cert(), pki.admin());
    // A server certificate for the right name, but from another cluster's CA.
    SSLContext impostor = TlsFiles.sslContext(other.ca().cert(), other.apiserver());
    assertThatThrownBy(() -> handshake(client, "127.0.0.1", impostor))
        .isInstanceOf(SSLHandshakeException.class)
        .hasMessageContaining("PKIX path");
    // And the server side still requires a client certificate from its CA.
    SSLContext stranger = TlsFiles.sslContext(pki.ca().cert(), other.admin());
    assertThatThrownBy(
            () ->
                handshake(
                    stranger, "127.0.0.1", TlsFiles.sslContext(pki.ca().cert(), pki.apiserver())))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void hostNamesAreMatchedAsGoMatchesThem() throws Exception {
    X509Certificate cert = PemFiles.readCertificates(pki.apiserver().cert()).get(0);
    ClusterTrustManager.checkHost("KUBERNETES.default", cert);
    ClusterTrustManager.checkHost("0:0:0:0:0:0:0:1", cert);
    ClusterTrustManager.checkHost("x.apps.example.test.", cert);
    assertThatThrownBy(() -> ClusterTrustManager.checkHost("", cert))
        .isInstanceOf(CertificateException.class)
        .hasMessage("no host name to check the server's certificate against");
    // A CA certificate names no host at all.
    X509Certificate ca = PemFiles.readCertificates(pki.ca().cert()).get(0);
    assertThatThrownBy(() -> ClusterTrustManager.checkHost("127.0.0.1", ca))
        .hasMessage(
            "the server's certificate names no host (no subject alternative names), not"
                + " 127.0.0.1");
  }

  /**
   * A TLS handshake between a client that believes it reached {@code host} (HTTPS host-name
   * checking on, as the JDK HTTP client sets it) and a server requiring client certificates, over
   * in-memory buffers; throws what either side throws.
   */
  static void handshake(SSLContext clientCtx, String host, SSLContext serverCtx) throws Exception {
    SSLEngine c = clientCtx.createSSLEngine(host, 6443);
    c.setUseClientMode(true);
    SSLParameters p = c.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    c.setSSLParameters(p);
    SSLEngine s = serverCtx.createSSLEngine();
    s.setUseClientMode(false);
    s.setNeedClientAuth(true);
    int size = 1 << 17;
    ByteBuffer toServer = ByteBuffer.allocate(size);
    ByteBuffer toClient = ByteBuffer.allocate(size);
    ByteBuffer clientApp = ByteBuffer.allocate(size);
    ByteBuffer serverApp = ByteBuffer.allocate(size);
    ByteBuffer none = ByteBuffer.allocate(0);
    c.beginHandshake();
    s.beginHandshake();
    for (int i = 0; i < 100; i++) {
      if (c.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && s.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING) {
        return;
      }
      c.wrap(none, toServer);
      runTasks(c);
      s.wrap(none, toClient);
      runTasks(s);
      toServer.flip();
      s.unwrap(toServer, serverApp);
      toServer.compact();
      runTasks(s);
      toClient.flip();
      c.unwrap(toClient, clientApp);
      toClient.compact();
      runTasks(c);
    }
    assertThat(c.getHandshakeStatus()).as("the handshake did not finish").isNull();
  }

  private static void runTasks(SSLEngine e) {
    for (Runnable t = e.getDelegatedTask(); t != null; t = e.getDelegatedTask()) {
      t.run();
    }
  }
}

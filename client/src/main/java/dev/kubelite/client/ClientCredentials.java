package dev.kubelite.client;

import dev.kubelite.pki.PemFiles;
import dev.kubelite.pki.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/** TLS and bearer credentials from a kubeconfig's cluster and user, read as kubectl reads them. */
final class ClientCredentials {
  private ClientCredentials() {}

  /** The user's bearer token: {@code token}, else the contents of {@code tokenFile}, else null. */
  static String token(KubeConfig.User user) {
    if (user == null) {
      return null;
    }
    if (user.token() != null && !user.token().isEmpty()) {
      return user.token();
    }
    if (user.tokenFile() != null && !user.tokenFile().isEmpty()) {
      try {
        return Files.readString(Path.of(user.tokenFile()), StandardCharsets.UTF_8).trim();
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot read the tokenFile " + user.tokenFile() + " of user " + user.name(), e);
      }
    }
    return null;
  }

  /** The TLS context for an https cluster, or null for http. */
  static SSLContext sslContext(KubeConfig.Cluster cluster, KubeConfig.User user) {
    if (!cluster.server().startsWith("https:")) {
      return null; // as kubectl: TLS settings only matter for https servers
    }
    List<X509Certificate> chain = null;
    PrivateKey key = null;
    if (user != null) {
      String cert =
          pem(user.clientCertificate(), user.clientCertificateData(), "client-certificate");
      String k = pem(user.clientKey(), user.clientKeyData(), "client-key");
      if ((cert == null) != (k == null)) {
        throw new IllegalArgumentException(
            "user "
                + user.name()
                + " in the kubeconfig has "
                + (cert == null
                    ? "a client-key without a client-certificate"
                    : "a client-certificate without a client-key"));
      }
      if (cert != null) {
        chain = PemFiles.parseCertificates(cert, "client-certificate of user " + user.name());
        if (chain.isEmpty()) {
          throw new IllegalArgumentException(
              "the client-certificate of user " + user.name() + " holds no PEM certificate");
        }
        key = PemFiles.parseKey(k, "client-key of user " + user.name());
      }
    }
    if (cluster.tlsServerName() != null && !cluster.tlsServerName().isEmpty()) {
      throw new IllegalArgumentException(
          "cluster "
              + cluster.name()
              + ": tls-server-name is not supported by this client; use a server URL whose host"
              + " the certificate names");
    }
    if (cluster.insecureSkipTlsVerify()) {
      return TlsFiles.sslContext(new TrustManager[] {new TrustAll()}, chain, key);
    }
    String ca =
        pem(
            cluster.certificateAuthority(),
            cluster.certificateAuthorityData(),
            "certificate-authority");
    List<X509Certificate> cas = null;
    if (ca != null) {
      cas = PemFiles.parseCertificates(ca, "certificate-authority of cluster " + cluster.name());
      if (cas.isEmpty()) {
        throw new IllegalArgumentException(
            "the certificate-authority of cluster " + cluster.name() + " holds no certificate");
      }
    }
    return TlsFiles.sslContext(cas, chain, key);
  }

  /** PEM text from a file field or a base64 {@code -data} field (the data wins, as kubectl). */
  private static String pem(String file, String data, String field) {
    if (data != null && !data.isEmpty()) {
      try {
        return new String(Base64.getMimeDecoder().decode(data), StandardCharsets.US_ASCII);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(field + "-data in the kubeconfig is not base64", e);
      }
    }
    if (file != null && !file.isEmpty()) {
      try {
        return Files.readString(Path.of(file), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the " + field + " file " + file, e);
      }
    }
    return null;
  }

  /** insecure-skip-tls-verify: accepts any server certificate and host name, as kubectl does. */
  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}

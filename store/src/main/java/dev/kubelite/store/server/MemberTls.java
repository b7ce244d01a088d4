package dev.kubelite.store.server;

import dev.kubelite.store.client.ClientTls;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A member's TLS files and switches, with etcd's flags and meanings: {@code --cert-file}, {@code
 * --key-file}, {@code --trusted-ca-file}, {@code --client-cert-auth} for the client port, and their
 * {@code --peer-} twins for the peer port. A client-side CA is only used when client certificates
 * are required (as etcd, which asks for no client certificate otherwise).
 */
public record MemberTls(
    Path certFile,
    Path keyFile,
    Path trustedCaFile,
    boolean clientCertAuth,
    Path peerCertFile,
    Path peerKeyFile,
    Path peerTrustedCaFile,
    boolean peerClientCertAuth) {

  /** No TLS: http:// URLs only. */
  public static final MemberTls NONE =
      new MemberTls(null, null, null, false, null, null, null, false);

  public boolean hasClientCert() {
    return certFile != null && keyFile != null;
  }

  public boolean hasPeerCert() {
    return peerCertFile != null && peerKeyFile != null;
  }

  /** Checks the files: pairs complete, readable, a CA wherever client certificates are required. */
  void check() {
    pair("--cert-file", certFile, "--key-file", keyFile);
    pair("--peer-cert-file", peerCertFile, "--peer-key-file", peerKeyFile);
    readable("--cert-file", certFile);
    readable("--key-file", keyFile);
    readable("--trusted-ca-file", trustedCaFile);
    readable("--peer-cert-file", peerCertFile);
    readable("--peer-key-file", peerKeyFile);
    readable("--peer-trusted-ca-file", peerTrustedCaFile);
    if (clientCertAuth && trustedCaFile == null) {
      throw new MemberConfig.InvalidConfigException(
          "--client-cert-auth needs --trusted-ca-file: the CA whose client certificates are"
              + " accepted");
    }
    if (peerClientCertAuth && peerTrustedCaFile == null) {
      throw new MemberConfig.InvalidConfigException(
          "--peer-client-cert-auth needs --peer-trusted-ca-file: the CA whose peer certificates"
              + " are accepted");
    }
  }

  /** The client port's server-side TLS settings (for https:// listen URLs). */
  <T extends NetServerOptions> T applyServer(T options) {
    return server(options, certFile, keyFile, trustedCaFile, clientCertAuth);
  }

  /** The peer port's server-side TLS settings (for https:// peer URLs). */
  NetServerOptions peerServer() {
    return server(
        new NetServerOptions(), peerCertFile, peerKeyFile, peerTrustedCaFile, peerClientCertAuth);
  }

  /**
   * TLS for dialing peers: trust the peer CA (the JDK's default without one) and present the peer
   * certificate, which the peer checks if it has {@code --peer-client-cert-auth}.
   */
  NetClientOptions peerClient(NetClientOptions options) {
    options.setSsl(true).setHostnameVerificationAlgorithm("HTTPS");
    if (peerTrustedCaFile != null) {
      options.setTrustOptions(pemTrust(peerTrustedCaFile));
    }
    return options.setKeyCertOptions(pemKeyCert(peerCertFile, peerKeyFile));
  }

  /**
   * TLS for this member's calls to other members' client ports (leader forwarding, status): trust
   * the client CA and present the serving certificate, as etcd's own gateway does (kubeadm issues
   * etcd's server certificate for client auth too).
   */
  ClientTls memberClient() {
    return new ClientTls(trustedCaFile, certFile, keyFile);
  }

  private static <T extends NetServerOptions> T server(
      T options, Path cert, Path key, Path ca, boolean requireClientCert) {
    options.setSsl(true).setUseAlpn(true).setKeyCertOptions(pemKeyCert(cert, key));
    if (requireClientCert) {
      options.setTrustOptions(pemTrust(ca));
      options.setClientAuth(ClientAuth.REQUIRED);
    }
    return options;
  }

  private static PemKeyCertOptions pemKeyCert(Path cert, Path key) {
    return new PemKeyCertOptions()
        .setCertPath(cert.toAbsolutePath().toString())
        .setKeyPath(key.toAbsolutePath().toString());
  }

  private static PemTrustOptions pemTrust(Path ca) {
    return new PemTrustOptions().addCertPath(ca.toAbsolutePath().toString());
  }

  private static void pair(String certFlag, Path cert, String keyFlag, Path key) {
    if ((cert == null) != (key == null)) {
      throw new MemberConfig.InvalidConfigException(
          (cert == null ? keyFlag + " needs " + certFlag : certFlag + " needs " + keyFlag)
              + ": a certificate and its key go together");
    }
  }

  private static void readable(String flag, Path p) {
    if (p != null && !Files.isReadable(p)) {
      throw new MemberConfig.InvalidConfigException(flag + ": cannot read " + p);
    }
  }
}

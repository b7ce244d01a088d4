package dev.kubelite.pki;

import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.regex.Pattern;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The trust manager for a cluster's own CAs (decision 0083). The chain is validated by the JDK's
 * trust manager exactly as before (PKIX path to the given CAs, the handshake's algorithm
 * constraints, key usages); only the server's host-name check, on the {@link SSLEngine} path the
 * JDK HTTP client takes, is done here, the way Go's crypto/x509 (and so kubectl) does it: an IP
 * address against the certificate's IP SANs, a DNS name against its DNS SANs, a {@code *} only as a
 * whole leftmost label, and the subject's CN never.
 *
 * <p>Why: before checking the host name the JDK loads its whole {@code cacerts} (about 140 public
 * roots) to learn whether the chain ends in a public CA, which changes only how it treats wildcards
 * of public CAs. For a chain that ends in the cluster's own CA the answer is always no, and the
 * look-up cost a short-lived client (kubectl-lite) about a tenth of its CPU on every run.
 */
final class ClusterTrustManager extends X509ExtendedTrustManager {
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final X509ExtendedTrustManager jdk;

  ClusterTrustManager(X509ExtendedTrustManager jdk) {
    this.jdk = jdk;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    if (engine == null || !isHttps(engine.getSSLParameters())) {
      jdk.checkServerTrusted(chain, authType, engine);
      return;
    }
    // The JDK's own checks on this very handshake, with host-name checking turned off in the
    // engine's view only; then the host name, here.
    jdk.checkServerTrusted(chain, authType, new WithoutEndpointIdentification(engine));
    checkHost(engine.getPeerHost(), chain[0]);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    jdk.checkServerTrusted(chain, authType, socket);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    jdk.checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    jdk.checkClientTrusted(chain, authType, engine);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    jdk.checkClientTrusted(chain, authType, socket);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    jdk.checkClientTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return jdk.getAcceptedIssuers();
  }

  private static boolean isHttps(SSLParameters p) {
    return "HTTPS".equalsIgnoreCase(p.getEndpointIdentificationAlgorithm());
  }

  /**
   * Whether {@code cert} is valid for {@code host}, as Go's {@code VerifyHostname}: throws, naming
   * the names the certificate is valid for, when not.
   */
  static void checkHost(String host, X509Certificate cert) throws CertificateException {
    if (host == null || host.isEmpty()) {
      throw new CertificateException("no host name to check the server's certificate against");
    }
    String h = host;
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    List<String> dns = new ArrayList<>();
    List<String> ips = new ArrayList<>();
    Collection<List<?>> sans;
    try {
      sans = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new CertificateException("cannot read the server certificate's names", e);
    }
    if (sans != null) {
      for (List<?> san : sans) {
        int type = (Integer) san.get(0);
        if (type == 2) {
          dns.add((String) san.get(1));
        } else if (type == 7) {
          ips.add((String) san.get(1));
        }
      }
    }
    InetAddress ip = ipLiteral(h);
    if (ip != null) {
      for (String s : ips) {
        InetAddress candidate = ipLiteral(s);
        if (ip.equals(candidate)) {
          return;
        }
      }
    } else {
      String name = withoutTrailingDot(h.toLowerCase(Locale.ROOT));
      for (String s : dns) {
        if (matches(withoutTrailingDot(s.toLowerCase(Locale.ROOT)), name)) {
          return;
        }
      }
    }
    List<String> valid = new ArrayList<>(dns);
    valid.addAll(ips);
    throw new CertificateException(
        valid.isEmpty()
            ? "the server's certificate names no host (no subject alternative names), not " + host
            : "the server's certificate is valid for "
                + String.join(", ", valid)
                + ", not "
                + host);
  }

  /** An IPv4 or IPv6 literal, or null for a name (never a DNS look-up). */
  private static InetAddress ipLiteral(String s) {
    if (!IPV4.matcher(s).matches() && s.indexOf(':') < 0) {
      return null;
    }
    try {
      return InetAddress.getByName(s); // a literal: parsed, not looked up
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static String withoutTrailingDot(String s) {
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /** A DNS SAN against a host name: equal labels, a leftmost {@code *} matching one label. */
  private static boolean matches(String pattern, String host) {
    if (pattern.isEmpty() || host.isEmpty()) {
      return false;
    }
    String[] p = pattern.split("\\.", -1);
    String[] n = host.split("\\.", -1);
    if (p.length != n.length) {
      return false;
    }
    for (int i = 0; i < p.length; i++) {
      if (i == 0 && p[i].equals("*") && !n[i].isEmpty()) {
        continue;
      }
      if (!p[i].equals(n[i])) {
        return false;
      }
    }
    return true;
  }

  /**
   * The engine as the JDK's trust manager sees it: the same engine (its handshake session, peer,
   * algorithm constraints), except that its parameters ask for no endpoint identification. Used
   * only for the duration of one {@code checkServerTrusted} call; it does no TLS work itself.
   */
  private static final class WithoutEndpointIdentification extends SSLEngine {
    private final SSLEngine engine;

    WithoutEndpointIdentification(SSLEngine engine) {
      super(engine.getPeerHost(), engine.getPeerPort());
      this.engine = engine;
    }

    @Override
    public SSLParameters getSSLParameters() {
      SSLParameters p = engine.getSSLParameters();
      p.setEndpointIdentificationAlgorithm(null);
      return p;
    }

    @Override
    public SSLSession getHandshakeSession() {
      return engine.getHandshakeSession();
    }

    @Override
    public SSLSession getSession() {
      return engine.getSession();
    }

    @Override
    public String getApplicationProtocol() {
      return engine.getApplicationProtocol();
    }

    @Override
    public String getHandshakeApplicationProtocol() {
      return engine.getHandshakeApplicationProtocol();
    }

    @Override
    public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
      return engine.getHandshakeApplicationProtocolSelector();
    }

    @Override
    public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst)
        throws SSLException {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length)
        throws SSLException {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public Runnable getDelegatedTask() {
      return null;
    }

    @Override
    public void closeInbound() {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public boolean isInboundDone() {
      return engine.isInboundDone();
    }

    @Override
    public void closeOutbound() {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public boolean isOutboundDone() {
      return engine.isOutboundDone();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return engine.getSupportedCipherSuites();
    }

    @Override
    public String[] getEnabledCipherSuites() {
      return engine.getEnabledCipherSuites();
    }

    @Override
    public void setEnabledCipherSuites(String[] suites) {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public String[] getSupportedProtocols() {
      return engine.getSupportedProtocols();
    }

    @Override
    public String[] getEnabledProtocols() {
      return engine.getEnabledProtocols();
    }

    @Override
    public void setEnabledProtocols(String[] protocols) {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public void beginHandshake() {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
      return engine.getHandshakeStatus();
    }

    @Override
    public void setUseClientMode(boolean mode) {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public boolean getUseClientMode() {
      return engine.getUseClientMode();
    }

    @Override
    public void setNeedClientAuth(boolean need) {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public boolean getNeedClientAuth() {
      return engine.getNeedClientAuth();
    }

    @Override
    public void setWantClientAuth(boolean want) {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public boolean getWantClientAuth() {
      return engine.getWantClientAuth();
    }

    @Override
    public void setEnableSessionCreation(boolean flag) {
      throw new UnsupportedOperationException("a view for certificate checks only");
    }

    @Override
    public boolean getEnableSessionCreation() {
      return engine.getEnableSessionCreation();
    }
  }
}

package dev.kubelite.pki;

import dev.kubelite.pki.PkiPaths.CertPaths;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** TLS settings built from PEM files: an {@link SSLContext}, or Vert.x's PEM options. */
public final class TlsFiles {
  private TlsFiles() {}

  /** Vert.x key/cert options presenting this certificate (chain) and key. */
  public static PemKeyCertOptions keyCert(Path cert, Path key) {
    return new PemKeyCertOptions()
        .setCertPath(cert.toAbsolutePath().toString())
        .setKeyPath(key.toAbsolutePath().toString());
  }

  public static PemKeyCertOptions keyCert(CertPaths paths) {
    return keyCert(paths.cert(), paths.key());
  }

  /** Vert.x trust options trusting the certificates (CAs) in this PEM file. */
  public static PemTrustOptions trust(Path caFile) {
    return new PemTrustOptions().addCertPath(caFile.toAbsolutePath().toString());
  }

  /**
   * A TLS 1.2+ context trusting the CAs in {@code caFile} (null: the JDK's default trust) and, when
   * {@code cert} and {@code key} are given, presenting that certificate (client or server).
   */
  public static SSLContext sslContext(Path caFile, Path cert, Path key) {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("a certificate needs its key, and a key its certificate");
    }
    List<X509Certificate> cas = caFile == null ? null : PemFiles.readCertificates(caFile);
    if (cas != null && cas.isEmpty()) {
      throw new IllegalArgumentException(caFile + " holds no certificate to trust");
    }
    List<X509Certificate> chain = cert == null ? null : PemFiles.readCertificates(cert);
    if (chain != null && chain.isEmpty()) {
      throw new IllegalArgumentException(cert + " holds no certificate");
    }
    try {
      return sslContext(cas, chain, key == null ? null : PemFiles.readKey(key));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          "cannot build a TLS context from CA " + caFile + ", cert " + cert + ", key " + key, e);
    }
  }

  /**
   * A TLS context trusting {@code cas} (null: the JDK's default trust) and presenting {@code chain}
   * with {@code key} (both null: no certificate). With {@code cas}, a server's host name is checked
   * as Go's crypto/x509 checks it ({@link ClusterTrustManager}, decision 0083).
   */
  public static SSLContext sslContext(
      List<X509Certificate> cas, List<X509Certificate> chain, PrivateKey key) {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (cas == null) {
        tmf.init((KeyStore) null);
      } else {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate c : cas) {
          trust.setCertificateEntry("ca-" + i++, c);
        }
        tmf.init(trust);
      }
      TrustManager[] tms = tmf.getTrustManagers();
      if (cas != null) {
        // The cluster's own CAs: the host-name check without the JDK's cacerts look-up.
        for (int i = 0; i < tms.length; i++) {
          if (tms[i] instanceof X509ExtendedTrustManager x) {
            tms[i] = new ClusterTrustManager(x);
          }
        }
      }
      return sslContext(tms, chain, key);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build a TLS context", e);
    }
  }

  /** A TLS context with these trust managers, presenting {@code chain}/{@code key} if given. */
  public static SSLContext sslContext(
      TrustManager[] trustManagers, List<X509Certificate> chain, PrivateKey key) {
    if ((chain == null) != (key == null)) {
      throw new IllegalArgumentException("a certificate needs its key, and a key its certificate");
    }
    try {
      // One chain and key: a key manager that holds them, rather than a PKCS12 key store that
      // would encrypt the key with PBKDF2 only for KeyManagerFactory to decrypt it (decision 0082).
      KeyManager[] kms =
          chain == null
              ? null
              : new KeyManager[] {new FixedKeyManager(chain.toArray(X509Certificate[]::new), key)};
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kms, trustManagers, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a TLS context", e);
    }
  }

  public static SSLContext sslContext(Path caFile, CertPaths paths) {
    return sslContext(caFile, paths.cert(), paths.key());
  }
}

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
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

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
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (caFile == null) {
        tmf.init((KeyStore) null);
      } else {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate c : PemFiles.readCertificates(caFile)) {
          trust.setCertificateEntry("ca-" + i++, c);
        }
        if (i == 0) {
          throw new IllegalArgumentException(caFile + " holds no certificate to trust");
        }
        tmf.init(trust);
      }
      KeyManagerFactory kmf = null;
      if (cert != null && key != null) {
        char[] pw = new char[0];
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        List<X509Certificate> chain = PemFiles.readCertificates(cert);
        if (chain.isEmpty()) {
          throw new IllegalArgumentException(cert + " holds no certificate");
        }
        PrivateKey k = PemFiles.readKey(key);
        ks.setKeyEntry("key", k, pw, chain.toArray(X509Certificate[]::new));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
      } else if (cert != null || key != null) {
        throw new IllegalArgumentException(
            "a certificate needs its key, and a key its certificate");
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(
          "cannot build a TLS context from CA " + caFile + ", cert " + cert + ", key " + key, e);
    }
  }

  public static SSLContext sslContext(Path caFile, CertPaths paths) {
    return sslContext(caFile, paths.cert(), paths.key());
  }
}

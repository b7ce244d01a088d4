package dev.kubelite.store.client;

import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS for a store client, as etcdctl's {@code --cacert}, {@code --cert} and {@code --key}: the CA
 * that signed the store's serving certificate (null: the JDK's default trust) and, for a store that
 * requires client certificates, this client's certificate and key (PEM).
 */
public record ClientTls(Path caFile, Path certFile, Path keyFile) {
  public ClientTls {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException(
          "a client certificate needs its key and a key its certificate (got cert "
              + certFile
              + ", key "
              + keyFile
              + ")");
    }
    for (Path p : new Path[] {caFile, certFile, keyFile}) {
      if (p != null && !Files.isReadable(p)) {
        throw new IllegalArgumentException("cannot read the TLS file " + p);
      }
    }
  }

  /** Trust {@code caFile}, present no client certificate. */
  public static ClientTls trusting(Path caFile) {
    return new ClientTls(caFile, null, null);
  }

  /** Sets TLS (with ALPN, for gRPC's HTTP/2) on these HTTP client options. */
  public HttpClientOptions apply(HttpClientOptions options) {
    options.setSsl(true).setUseAlpn(true).setVerifyHost(true);
    if (caFile != null) {
      options.setTrustOptions(
          new PemTrustOptions().addCertPath(caFile.toAbsolutePath().toString()));
    }
    if (certFile != null) {
      options.setKeyCertOptions(
          new PemKeyCertOptions()
              .setCertPath(certFile.toAbsolutePath().toString())
              .setKeyPath(keyFile.toAbsolutePath().toString()));
    }
    return options;
  }
}

package dev.kubelite.pki;

import dev.kubelite.pki.PkiPaths.CertPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;

/**
 * The kubeconfig files {@code kubelite up} and {@code kubelite certs init} write, in kubectl's
 * format, self-contained as kubeadm's (the cluster CA and the user's client certificate and key
 * embedded as {@code -data} fields), so the real kubectl and kubectl-lite use them as they are.
 */
public final class Kubeconfigs {
  private Kubeconfigs() {}

  /** A context (and its cluster, of the same name) for the server at {@code server}. */
  public record Context(String name, URI server) {}

  /** One cluster, one user, one context named "kubelite", namespace "default". */
  public static String forUser(URI server, String user, Path caCert, CertPaths cert) {
    return forUser(List.of(new Context("kubelite", server)), user, caCert, cert);
  }

  /**
   * One cluster and one context per entry of {@code contexts}, all with the same user (the client
   * certificate {@code cert}, or none when null) and namespace "default"; the first is the current
   * context. {@code caCert} (null: none, for plain-HTTP servers) is each cluster's CA.
   */
  public static String forUser(List<Context> contexts, String user, Path caCert, CertPaths cert) {
    StringBuilder clusters = new StringBuilder();
    StringBuilder ctxs = new StringBuilder();
    for (Context c : contexts) {
      clusters
          .append("- name: ")
          .append(c.name())
          .append("\n  cluster:\n    server: ")
          .append(c.server())
          .append('\n');
      if (caCert != null) {
        clusters.append("    certificate-authority-data: ").append(data(caCert)).append('\n');
      }
      ctxs.append("- name: ")
          .append(c.name())
          .append("\n  context:\n    cluster: ")
          .append(c.name())
          .append("\n    user: ")
          .append(user)
          .append("\n    namespace: default\n");
    }
    String userBody =
        cert == null
            ? "  user: {}\n"
            : "  user:\n    client-certificate-data: "
                + data(cert.cert())
                + "\n    client-key-data: "
                + data(cert.key())
                + "\n";
    return "apiVersion: v1\nkind: Config\nclusters:\n"
        + clusters
        + "users:\n- name: "
        + user
        + "\n"
        + userBody
        + "contexts:\n"
        + ctxs
        + "current-context: "
        + contexts.get(0).name()
        + "\npreferences: {}\n";
  }

  /**
   * Writes {@code text} to {@code file} through a temporary file created 0600 (a kubeconfig holds a
   * private key), then renamed into place.
   */
  public static void writePrivate(Path file, String text) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static String data(Path file) {
    try {
      return Base64.getEncoder().encodeToString(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " for a kubeconfig", e);
    }
  }
}

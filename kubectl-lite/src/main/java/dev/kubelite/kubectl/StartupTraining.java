package dev.kubelite.kubectl;

import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The run {@code bin/kubectl-lite} makes its class-data-sharing archive from (decision 0081): a
 * {@code get} through a kubeconfig like the one {@code kubelite up} writes (https, the cluster's
 * CA, a client certificate) against an address nothing listens on (127.0.0.1:1), so that the
 * classes a real {@code get} needs — picocli, Jackson, the PEM and TLS set-up, the HTTP client —
 * are loaded and archived, and nothing is sent anywhere.
 */
public final class StartupTraining {
  private StartupTraining() {}

  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("kubectl-lite-training");
    try {
      PkiPaths pki = Pki.ensure(dir.resolve("pki"), PkiSpec.defaults());
      Path kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(
          kubeconfig,
          String.join(
              "\n",
              "apiVersion: v1",
              "kind: Config",
              "clusters:",
              "- name: training",
              "  cluster:",
              "    server: https://127.0.0.1:1",
              "    certificate-authority: " + pki.ca().cert(),
              "users:",
              "- name: training",
              "  user:",
              "    client-certificate: " + pki.admin().cert(),
              "    client-key: " + pki.admin().key(),
              "contexts:",
              "- name: training",
              "  context: {cluster: training, user: training}",
              "current-context: training",
              ""));
      PrintWriter discard = new PrintWriter(Writer.nullWriter());
      // Refused at once (nothing listens on port 1): the exit code is expected to be 1.
      KubectlLite.run(
          new String[] {
            "--kubeconfig", kubeconfig.toString(),
            "--cache-dir", dir.resolve("cache").toString(),
            "get", "pods"
          },
          discard,
          discard);
    } finally {
      deleteTree(dir);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException("cannot remove training file " + p, e);
                }
              });
    }
  }
}

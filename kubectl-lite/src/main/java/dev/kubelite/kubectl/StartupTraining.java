package dev.kubelite.kubectl;

import dev.kubelite.pki.Pki;
import dev.kubelite.pki.PkiPaths;
import dev.kubelite.pki.PkiSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The run {@code bin/kubectl-lite} makes its class-data-sharing archive from (decisions 0081,
 * 0082): a {@code get pods} and a {@code get pods -A} through a kubeconfig like the one {@code
 * kubelite up} writes (https, the cluster's CA, a client certificate, from a throwaway PKI) against
 * a stand-in API server in this process on 127.0.0.1 (a loopback port of its own, closed at the
 * end), which makes the TLS handshake with client certificates that {@code up} makes and answers
 * discovery and the lists with canned documents. So the classes a real {@code get} needs — picocli,
 * Jackson, the PEM and TLS set-up, the handshake itself, the HTTP client, the table printer — are
 * loaded and archived, and nothing leaves the machine.
 */
public final class StartupTraining {
  private StartupTraining() {}

  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("kubectl-lite-training");
    PkiPaths pki = Pki.ensure(dir.resolve("pki"), PkiSpec.defaults());
    try (TrainingServer server = new TrainingServer(pki)) {
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
              "    server: https://127.0.0.1:" + server.port(),
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
      StringWriter errors = new StringWriter();
      String[] base = {
        "--kubeconfig", kubeconfig.toString(), "--cache-dir", dir.resolve("cache").toString()
      };
      // First with discovery from the server (and cached), then from the cache, as most runs go.
      int code = KubectlLite.run(concat(base, "get", "pods"), discard, new PrintWriter(errors));
      code |= KubectlLite.run(concat(base, "get", "pods", "-A"), discard, new PrintWriter(errors));
      if (code != 0) {
        throw new IllegalStateException("the training run's get failed: " + errors);
      }
    } finally {
      deleteTree(dir);
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
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

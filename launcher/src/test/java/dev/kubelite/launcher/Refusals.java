package dev.kubelite.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.client.KubeClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The requests an API server's authorizers refused (403), read from its audit log (every request is
 * audited at Metadata level under {@code up}): a component refused in one of its loops is a missing
 * rule, even when the test around it passes.
 */
final class Refusals {
  private Refusals() {}

  /** One refused request: who, what, and the API server's message. */
  record Refusal(String user, String verb, String resource, String namespace, String message) {
    @Override
    public String toString() {
      return user + " " + verb + " " + resource + " in '" + namespace + "': " + message;
    }
  }

  /** The 403s in the audit logs {@code logs} (missing files are skipped). */
  static List<Refusal> in(List<Path> logs) {
    List<Refusal> out = new ArrayList<>();
    for (Path log : logs) {
      if (!Files.exists(log)) {
        continue;
      }
      List<String> lines;
      try {
        lines = Files.readAllLines(log);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the audit log " + log, e);
      }
      for (String line : lines) {
        // Authorization's refusals only (kube-apiserver's "... is forbidden: User "u" cannot
        // ...", escalation's "attempting to grant"), not the namespace lifecycle's "unable to
        // create new content in namespace x because it is being terminated".
        if (!line.contains("\"code\":403")
            || !(line.contains("forbidden: User \\\"") || line.contains("attempting to grant"))) {
          continue;
        }
        JsonNode e;
        try {
          e = KubeClient.JSON.readTree(line);
        } catch (IOException ex) {
          continue; // a line cut by a crash: not a 403 we can name
        }
        String resource = e.path("objectRef").path("resource").asText("");
        String sub = e.path("objectRef").path("subresource").asText("");
        out.add(
            new Refusal(
                e.path("user").path("username").asText(),
                e.path("verb").asText(),
                sub.isEmpty() ? resource : resource + "/" + sub,
                e.path("objectRef").path("namespace").asText(""),
                e.path("responseStatus").path("message").asText("")));
      }
    }
    return out;
  }

  /** The components' own users: none of them may be refused in its normal work. */
  static final List<String> COMPONENTS =
      List.of(
          "system:kube-scheduler", "system:kube-controller-manager", "kubelite:simulated-kubelet");

  /** The refusals of the cluster's components, except those {@code expected} (a test's own). */
  static List<Refusal> ofComponents(List<Path> logs, Predicate<Refusal> expected) {
    return in(logs).stream()
        .filter(r -> COMPONENTS.contains(r.user()) || r.user().startsWith("system:node:"))
        .filter(expected.negate())
        .toList();
  }
}

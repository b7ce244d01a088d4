package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.Resource;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.describe.Text;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code logs}: a container's log through the API server's {@code pods/<name>/log}, which proxies
 * the node's kubelet. For {@code deployment/NAME} (or a ReplicaSet or Service) one of its pods is
 * picked as kubectl picks it: scheduled, running and ready, longest ready, most restarted, oldest.
 */
@Command(
    name = "logs",
    description = {
      "Print the logs for a container in a pod.",
      "",
      "Examples:",
      "  kubectl-lite logs web-7d9c5b6f4-abcde",
      "  kubectl-lite logs web-7d9c5b6f4-abcde -c nginx --tail 20 --timestamps",
      "  kubectl-lite logs -f deployment/web      # one of its pods, followed",
      "  kubectl-lite logs web-7d9c5b6f4-abcde --previous"
    })
public final class LogsCommand extends ClientCommand {
  @Parameters(paramLabel = "POD | TYPE/NAME", arity = "0..1")
  String target;

  @Option(
      names = {"-c", "--container"},
      paramLabel = "NAME",
      description = "The container (default: the pod's only one, else its first).")
  String container;

  @Option(
      names = {"-f", "--follow"},
      description = "Stream the log as it grows (Ctrl-C to stop).")
  boolean follow;

  @Option(
      names = "--tail",
      defaultValue = "-1",
      paramLabel = "N",
      description = "Only the last N lines (default -1: all).")
  long tail;

  @Option(
      names = {"-p", "--previous"},
      description = "The previous instance of the container (before its last restart).")
  boolean previous;

  @Option(names = "--timestamps", description = "Start each line with its RFC 3339 timestamp.")
  boolean timestamps;

  @Override
  public Integer call() throws IOException {
    if (target == null || target.isEmpty()) {
      throw new CliException(
          "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
              + "POD or TYPE/NAME is a required argument for the logs command\n"
              + "See 'kubectl-lite logs --help' for help and examples");
    }
    if (tail < -1) {
      throw new CliException("--tail must be greater than or equal to -1");
    }
    String ns = session().namespace();
    ObjectNode pod = pod(ns);
    String podName = pod.path("metadata").path("name").asText();
    String c = container(pod);
    StringBuilder q = new StringBuilder("?container=").append(enc(c));
    if (follow) {
      q.append("&follow=true");
    }
    if (previous) {
      q.append("&previous=true");
    }
    if (timestamps) {
      q.append("&timestamps=true");
    }
    if (tail >= 0) {
      q.append("&tailLines=").append(tail);
    }
    try (InputStream in = session().client().stream(Resource.PODS.path(ns, podName) + "/log" + q);
        Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      char[] buf = new char[8192];
      for (int n = r.read(buf); n >= 0; n = r.read(buf)) {
        out().write(buf, 0, n);
        out().flush();
      }
    }
    return 0;
  }

  /** The pod named, or the one kubectl would pick for a workload. */
  private ObjectNode pod(String ns) {
    ApiResource type = null;
    String name = target;
    int slash = target.indexOf('/');
    if (slash >= 0) {
      type = session().resources().resolve(target.substring(0, slash));
      name = target.substring(slash + 1);
    }
    Resource r = type == null ? Resource.PODS : type.resource();
    ObjectNode obj;
    try {
      obj = session().client().getPath(r.path(r.namespaced() ? ns : null, name));
    } catch (ApiException e) {
      if (e.isNotFound()) {
        String group = r.group().isEmpty() ? "" : "." + r.group();
        throw new CliException(
            "error from server (NotFound): "
                + r.resource()
                + group
                + " \""
                + name
                + "\" not found in namespace \""
                + ns
                + "\"");
      }
      throw e;
    }
    if (r.group().isEmpty() && r.resource().equals("pods")) {
      return obj;
    }
    String selector = selectorOf(obj);
    if (selector == null) {
      throw new CliException("cannot get the logs from " + type.kind() + ": it selects no pods");
    }
    List<ObjectNode> pods = new ArrayList<>();
    for (JsonNode p :
        session()
            .client()
            .getPath(Resource.PODS.path(ns) + "?labelSelector=" + enc(selector))
            .path("items")) {
      pods.add((ObjectNode) p);
    }
    if (pods.isEmpty()) {
      throw new CliException(
          "timed out waiting for the condition: no pods of " + target + " exist yet");
    }
    pods.sort(BY_LOGGING);
    ObjectNode chosen = pods.get(0);
    if (pods.size() > 1) {
      err()
          .println(
              "Found "
                  + pods.size()
                  + " pods, using pod/"
                  + chosen.path("metadata").path("name").asText());
      err().flush();
    }
    return chosen;
  }

  private static String selectorOf(JsonNode obj) {
    JsonNode sel = obj.path("spec").path("selector");
    if (sel.has("matchLabels") || sel.has("matchExpressions")) {
      String s = Text.labelSelector(sel);
      return s.equals("<none>") ? null : s;
    }
    if (sel.isObject() && !sel.isEmpty()) {
      return Text.selector(sel);
    }
    return null;
  }

  /** The container asked for, the default-container annotation's, the only one, or the first. */
  private String container(ObjectNode pod) {
    List<String> names = new ArrayList<>();
    List<String> described = new ArrayList<>();
    for (JsonNode c : pod.path("spec").path("containers")) {
      names.add(c.path("name").asText());
      described.add(c.path("name").asText());
    }
    List<String> all = new ArrayList<>(names);
    for (JsonNode c : pod.path("spec").path("initContainers")) {
      all.add(c.path("name").asText());
      described.add(c.path("name").asText() + " (init)");
    }
    String podName = pod.path("metadata").path("name").asText();
    if (container != null && !container.isEmpty()) {
      if (!all.contains(container)) {
        throw new CliException("container " + container + " is not valid for pod " + podName);
      }
      return container;
    }
    String annotated =
        pod.path("metadata")
            .path("annotations")
            .path("kubectl.kubernetes.io/default-container")
            .asText("");
    if (!annotated.isEmpty() && all.contains(annotated)) {
      return annotated;
    }
    if (names.isEmpty()) {
      throw new CliException("pod " + podName + " has no containers");
    }
    if (names.size() > 1) {
      err()
          .println(
              "Defaulted container \""
                  + names.get(0)
                  + "\" out of: "
                  + String.join(", ", described));
      err().flush();
    }
    return names.get(0);
  }

  /** kubectl's ByLogging order: the pod most worth reading first. */
  static final Comparator<JsonNode> BY_LOGGING =
      Comparator.<JsonNode>comparingInt(
              p -> p.path("spec").path("nodeName").asText("").isEmpty() ? 1 : 0)
          .thenComparingInt(
              p ->
                  Map.of("Running", 0, "Unknown", 1, "Pending", 2)
                      .getOrDefault(p.path("status").path("phase").asText(), 3))
          .thenComparingInt(p -> readySince(p) != null ? 0 : 1)
          .thenComparing(
              LogsCommand::readySince, Comparator.nullsLast(Comparator.<Instant>naturalOrder()))
          .thenComparing(p -> maxRestarts(p), Comparator.<Integer>reverseOrder())
          .thenComparing(
              p -> Text.instant(p.path("metadata").path("creationTimestamp").asText(null)),
              Comparator.nullsLast(Comparator.<Instant>naturalOrder()));

  private static Instant readySince(JsonNode pod) {
    for (JsonNode c : pod.path("status").path("conditions")) {
      if (c.path("type").asText().equals("Ready") && c.path("status").asText().equals("True")) {
        Instant t = Text.instant(c.path("lastTransitionTime").asText(null));
        return t == null ? Instant.EPOCH : t;
      }
    }
    return null;
  }

  private static int maxRestarts(JsonNode pod) {
    int max = 0;
    for (JsonNode s : pod.path("status").path("containerStatuses")) {
      max = Math.max(max, s.path("restartCount").asInt(0));
    }
    return max;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

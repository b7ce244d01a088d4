package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.describe.TabWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code api-resources}: the resources the API server serves, read from its discovery documents
 * ({@code /api/v1}, {@code /apis} and each group's preferred version), sorted by group and name.
 */
@Command(
    name = "api-resources",
    description = {
      "Print the supported API resources on the server.",
      "",
      "Examples:",
      "  kubectl-lite api-resources",
      "  kubectl-lite api-resources -o wide",
      "  kubectl-lite api-resources --namespaced=false",
      "  kubectl-lite api-resources --api-group=apps",
      "  kubectl-lite api-resources -o name"
    })
public final class ApiResourcesCommand extends ClientCommand {
  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "wide (adds VERBS and CATEGORIES) or name.")
  String output;

  @Option(
      names = "--namespaced",
      arity = "0..1",
      fallbackValue = "true",
      paramLabel = "BOOL",
      description = "true: only namespaced resources; false: only cluster-scoped ones.")
  Boolean namespaced;

  @Option(
      names = "--api-group",
      paramLabel = "GROUP",
      description = "Only resources of this API group ('' for the core group).")
  String apiGroup;

  @Option(
      names = "--verbs",
      split = ",",
      paramLabel = "VERB",
      description = "Only resources that support all these verbs (e.g. list,watch).")
  List<String> verbs;

  @Option(names = "--no-headers", description = "Leave out the header line.")
  boolean noHeaders;

  private record Row(
      String name,
      String group,
      String apiVersion,
      boolean namespaced,
      String kind,
      List<String> shortNames,
      Set<String> verbs,
      List<String> categories) {}

  @Override
  public Integer call() {
    if (output != null && !output.isEmpty() && !output.equals("wide") && !output.equals("name")) {
      throw new CliException(
          "--output " + output + " is not available: use wide or name (or nothing)");
    }
    KubeClient client = session().client();
    List<Row> rows = new ArrayList<>();
    for (JsonNode v : client.getPath("/api").path("versions")) {
      read(client, "", v.asText(), "/api/" + v.asText(), rows);
    }
    for (JsonNode g : client.getPath("/apis").path("groups")) {
      String group = g.path("name").asText();
      String version = g.path("preferredVersion").path("version").asText("");
      if (version.isEmpty() && g.path("versions").size() > 0) {
        version = g.path("versions").get(0).path("version").asText();
      }
      read(client, group, version, "/apis/" + group + "/" + version, rows);
    }
    rows.removeIf(
        r ->
            (namespaced != null && r.namespaced() != namespaced)
                || (apiGroup != null && !r.group().equals(apiGroup))
                || (verbs != null && !r.verbs().containsAll(verbs)));
    rows.sort(Comparator.comparing(Row::group).thenComparing(Row::name));
    if ("name".equals(output)) {
      for (Row r : rows) {
        out().println(r.group().isEmpty() ? r.name() : r.name() + "." + r.group());
      }
      return 0;
    }
    boolean wide = "wide".equals(output);
    TabWriter tw = new TabWriter(3);
    if (!noHeaders) {
      tw.write(
          "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND"
              + (wide ? "\tVERBS\tCATEGORIES" : "")
              + "\n");
    }
    for (Row r : rows) {
      StringBuilder b =
          new StringBuilder()
              .append(r.name())
              .append('\t')
              .append(String.join(",", r.shortNames()))
              .append('\t')
              .append(r.apiVersion())
              .append('\t')
              .append(r.namespaced())
              .append('\t')
              .append(r.kind());
      if (wide) {
        b.append('\t')
            .append(String.join(",", new TreeSet<>(r.verbs())))
            .append('\t')
            .append(String.join(",", r.categories()));
      }
      tw.write(b.append('\n').toString());
    }
    out().print(tw);
    return 0;
  }

  private static void read(
      KubeClient client, String group, String version, String path, List<Row> into) {
    for (JsonNode r : client.getPath(path).path("resources")) {
      String name = r.path("name").asText();
      if (name.isEmpty() || name.contains("/")) {
        continue;
      }
      List<String> shortNames = new ArrayList<>();
      r.path("shortNames").forEach(x -> shortNames.add(x.asText()));
      Set<String> verbs = new TreeSet<>();
      r.path("verbs").forEach(x -> verbs.add(x.asText()));
      List<String> categories = new ArrayList<>();
      r.path("categories").forEach(x -> categories.add(x.asText()));
      into.add(
          new Row(
              name,
              group,
              group.isEmpty() ? version : group + "/" + version,
              r.path("namespaced").asBoolean(),
              r.path("kind").asText(),
              shortNames,
              verbs,
              categories));
    }
  }
}

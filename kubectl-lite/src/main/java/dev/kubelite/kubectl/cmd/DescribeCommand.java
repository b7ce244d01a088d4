package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.kubectl.Errors;
import dev.kubelite.kubectl.ResourceArgs;
import dev.kubelite.kubectl.ResourceArgs.Target;
import dev.kubelite.kubectl.describe.Describer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code describe}: kubectl's human-readable account of objects, each with its events. A name that
 * matches no object is taken as a prefix, as kubectl does ({@code describe pods web} describes
 * every pod whose name starts with {@code web}).
 */
@Command(
    name = "describe",
    description = {
      "Show details of a specific resource or group of resources, with their events.",
      "",
      "Prints a detailed description of the selected resources, including related resources such"
          + " as events or controllers. A NAME that matches no object selects every object whose"
          + " name starts with it.",
      "",
      "Examples:",
      "  kubectl-lite describe nodes node-1",
      "  kubectl-lite describe pods/web-7d9c5b6f4-abcde",
      "  kubectl-lite describe pods web          # every pod whose name starts with web",
      "  kubectl-lite describe pods -l app=web",
      "  kubectl-lite describe deployment web",
      "  kubectl-lite describe secrets           # keys and sizes, never the values"
    })
public final class DescribeCommand extends ClientCommand {
  @Parameters(paramLabel = "TYPE[,TYPE] [NAME_PREFIX...] | TYPE/NAME...", arity = "1..*")
  List<String> args;

  @Option(
      names = {"-l", "--selector"},
      paramLabel = "SELECTOR",
      description = "Label selector (e.g. app=web,tier!=db).")
  String selector;

  @Option(
      names = {"-A", "--all-namespaces"},
      description = "Describe across all namespaces.")
  boolean allNamespaces;

  @Override
  public Integer call() {
    List<Target> targets = ResourceArgs.parse(session().resources(), args, "describe");
    Describer describer =
        new Describer(session().client(), session().resources().discovery().resources());
    int exit = 0;
    boolean first = true;
    boolean askedForNames = false;
    for (Target t : targets) {
      String ns =
          t.resource().resource().namespaced() && !allNamespaces ? session().namespace() : null;
      List<ObjectNode> objects = new ArrayList<>();
      if (t.names().isEmpty()) {
        objects.addAll(list(t.resource(), ns, selector));
      } else {
        askedForNames = true;
        for (String name : t.names()) {
          try {
            objects.add(session().client().getPath(t.resource().resource().path(ns, name)));
          } catch (ApiException e) {
            if (!e.isNotFound()) {
              throw e;
            }
            List<ObjectNode> byPrefix = new ArrayList<>();
            for (ObjectNode o : list(t.resource(), ns, null)) {
              if (o.path("metadata").path("name").asText().startsWith(name)) {
                byPrefix.add(o);
              }
            }
            if (byPrefix.isEmpty()) {
              err().println(Errors.serverError(e));
              exit = 1;
            }
            objects.addAll(byPrefix);
          }
        }
      }
      for (ObjectNode o : objects) {
        String text = describer.describe(t.resource(), o);
        out().print(first ? text : "\n\n" + text);
        first = false;
      }
    }
    if (first && !askedForNames) {
      err()
          .println(
              allNamespaces
                  ? "No resources found"
                  : "No resources found in " + session().namespace() + " namespace.");
    }
    return exit;
  }

  private List<ObjectNode> list(ApiResource r, String ns, String labels) {
    String path = r.resource().path(ns);
    if (labels != null && !labels.isEmpty()) {
      path += "?labelSelector=" + URLEncoder.encode(labels, StandardCharsets.UTF_8);
    }
    List<ObjectNode> out = new ArrayList<>();
    for (JsonNode item : session().client().getPath(path).path("items")) {
      out.add((ObjectNode) item);
    }
    return out;
  }
}

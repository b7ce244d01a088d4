package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Watch;
import dev.kubelite.client.WatchEvent;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.Errors;
import dev.kubelite.kubectl.ResourceArgs;
import dev.kubelite.kubectl.ResourceArgs.Target;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.output.OutputFormat;
import dev.kubelite.kubectl.output.TablePrinter;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code get}: tables printed by the API server (server-side printing, as kubectl asks for them),
 * or whole objects with {@code -o yaml|json|name}; {@code -w} goes on with the changes.
 */
@Command(
    name = "get",
    description = {
      "Display one or many resources.",
      "",
      "Examples:",
      "  kubectl-lite get pods",
      "  kubectl-lite get deploy,rs -o wide",
      "  kubectl-lite get pod web-1 -o yaml",
      "  kubectl-lite get pods -A -l app=web --field-selector spec.nodeName=node-1",
      "  kubectl-lite get pods -w"
    })
public final class GetCommand extends ClientCommand {
  static final String TABLE_ACCEPT =
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

  @Parameters(paramLabel = "TYPE[,TYPE] [NAME...] | TYPE/NAME...", arity = "1..*")
  List<String> args;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "Output format: wide, yaml, json or name (default: a table).")
  String output;

  @Option(
      names = {"-l", "--selector"},
      paramLabel = "SELECTOR",
      description = "Label selector (e.g. app=web,tier!=db).")
  String selector;

  @Option(
      names = "--field-selector",
      paramLabel = "SELECTOR",
      description = "Field selector (e.g. spec.nodeName=node-1,status.phase=Running).")
  String fieldSelector;

  @Option(
      names = {"-A", "--all-namespaces"},
      description = "List across all namespaces.")
  boolean allNamespaces;

  @Option(
      names = {"-w", "--watch"},
      description = "After listing, watch for changes (Ctrl-C to stop).")
  boolean watch;

  @Override
  public Integer call() throws IOException {
    OutputFormat format = OutputFormat.parse(output);
    List<Target> targets = ResourceArgs.parse(session().resources(), args, "get");
    if (watch && targets.size() > 1) {
      throw new CliException("you may only specify a single resource type with --watch");
    }
    boolean prefixNames = targets.size() > 1;
    int exit = 0;
    boolean printedAny = false;
    List<ObjectNode> objects = new ArrayList<>();
    for (Target t : targets) {
      String ns = namespaceOf(t.resource());
      if (format.isTable()) {
        TablePrinter printer =
            new TablePrinter(
                format == OutputFormat.WIDE,
                allNamespaces && t.resource().resource().namespaced(),
                prefixNames ? ObjectPrinter.name(t.resource(), "") : "");
        List<List<String>> rows = new ArrayList<>();
        String resourceVersion = "";
        if (t.names().isEmpty()) {
          JsonNode table = session().client().getPath(listPath(t.resource(), ns), TABLE_ACCEPT);
          printer.columns(table);
          rows.addAll(printer.rows(table));
          resourceVersion = table.path("metadata").path("resourceVersion").asText("");
        } else {
          for (String name : t.names()) {
            try {
              JsonNode table =
                  session().client().getPath(t.resource().resource().path(ns, name), TABLE_ACCEPT);
              printer.columns(table);
              rows.addAll(printer.rows(table));
            } catch (ApiException e) {
              err().println(Errors.serverError(e));
              exit = 1;
            }
          }
        }
        if (!rows.isEmpty()) {
          if (printedAny) {
            out().println();
          }
          printer.printWithHeader(out(), rows);
          printedAny = true;
        }
        if (watch) {
          out().flush();
          watchTable(t.resource(), ns, resourceVersion, printer);
        }
      } else {
        objects.addAll(fetchObjects(t, ns));
        if (watch) {
          ObjectPrinter.print(out(), format, objects);
          objects.clear();
          out().flush();
          watchObjects(t.resource(), ns, format);
        }
      }
    }
    if (!format.isTable() && !objects.isEmpty()) {
      ObjectPrinter.print(out(), format, objects);
    }
    boolean askedForNames = targets.stream().anyMatch(t -> !t.names().isEmpty());
    if (!printedAny && objects.isEmpty() && !askedForNames && !watch) {
      err()
          .println(
              allNamespaces
                  ? "No resources found"
                  : "No resources found in " + session().namespace() + " namespace.");
    }
    return exit;
  }

  private String namespaceOf(ApiResource r) {
    if (!r.resource().namespaced() || allNamespaces) {
      return null;
    }
    return session().namespace();
  }

  private List<ObjectNode> fetchObjects(Target t, String ns) {
    KubeClient client = session().client();
    List<ObjectNode> objects = new ArrayList<>();
    if (t.names().isEmpty()) {
      ObjectNode list = client.getPath(listPath(t.resource(), ns));
      for (JsonNode item : list.path("items")) {
        objects.add(ObjectPrinter.withType((ObjectNode) item, t.resource()));
      }
    } else {
      for (String name : t.names()) {
        objects.add(
            ObjectPrinter.withType(
                client.getPath(t.resource().resource().path(ns, name)), t.resource()));
      }
    }
    return objects;
  }

  private String listPath(ApiResource r, String ns) {
    return r.resource().path(ns) + query(null);
  }

  private String query(String resourceVersion) {
    List<String> q = new ArrayList<>();
    if (selector != null && !selector.isEmpty()) {
      q.add("labelSelector=" + encode(selector));
    }
    if (fieldSelector != null && !fieldSelector.isEmpty()) {
      q.add("fieldSelector=" + encode(fieldSelector));
    }
    if (resourceVersion != null) {
      q.add("watch=true");
      if (!resourceVersion.isEmpty()) {
        q.add("resourceVersion=" + encode(resourceVersion));
      }
    }
    return q.isEmpty() ? "" : "?" + String.join("&", q);
  }

  private void watchTable(ApiResource r, String ns, String resourceVersion, TablePrinter printer)
      throws IOException {
    try (Watch w =
        session()
            .client()
            .watchPath(r.resource().path(ns) + query(resourceVersion), TABLE_ACCEPT)) {
      for (WatchEvent e = w.next(); e != null; e = w.next()) {
        if (isError(e)) {
          return;
        }
        if (e.isBookmark()) {
          continue;
        }
        printer.columns(e.object());
        printer.printMore(out(), printer.rows(e.object()));
        out().flush();
      }
    }
  }

  private void watchObjects(ApiResource r, String ns, OutputFormat format) throws IOException {
    try (Watch w =
        session().client().watchPath(r.resource().path(ns) + query(""), "application/json")) {
      for (WatchEvent e = w.next(); e != null; e = w.next()) {
        if (isError(e)) {
          return;
        }
        if (e.isBookmark()) {
          continue;
        }
        if (format == OutputFormat.YAML) {
          out().println("---");
        }
        ObjectPrinter.print(out(), format, List.of(ObjectPrinter.withType(e.object(), r)));
        out().flush();
      }
    }
  }

  private boolean isError(WatchEvent e) {
    if (e.isError()) {
      err().println("error: the watch ended: " + e.object().path("message").asText(""));
      return true;
    }
    return false;
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

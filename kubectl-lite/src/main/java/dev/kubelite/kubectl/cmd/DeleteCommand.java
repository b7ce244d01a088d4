package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Watch;
import dev.kubelite.client.WatchEvent;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.ResourceArgs;
import dev.kubelite.kubectl.ResourceArgs.Target;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.write.DryRun;
import dev.kubelite.kubectl.write.ManifestObjects;
import dev.kubelite.kubectl.write.WriteOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Stack;
import picocli.CommandLine.Command;
import picocli.CommandLine.IParameterPreprocessor;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code delete}: DELETE each object with a DeleteOptions body (propagationPolicy from {@code
 * --cascade}, gracePeriodSeconds from {@code --grace-period}/{@code --now}/{@code --force}), then,
 * as kubectl, wait until each is really gone (finalizers done, a pod's kubelet finished) unless
 * {@code --wait=false}.
 */
@Command(
    name = "delete",
    description = {
      "Delete resources by file names, standard input, resources and names, or by resources and"
          + " label selector.",
      "",
      "Waits until the objects are gone (their finalizers done, a pod stopped by its kubelet);"
          + " --wait=false returns once the deletion is accepted.",
      "",
      "Examples:",
      "  kubectl-lite delete -f manifests/deployment.yaml",
      "  kubectl-lite delete pod hello",
      "  kubectl-lite delete pods,services -l app=web",
      "  kubectl-lite delete deployment/web --cascade=orphan",
      "  kubectl-lite delete pod hello --now",
      "  kubectl-lite delete pod hello --force --grace-period=0",
      "  kubectl-lite delete pods --all -n shop"
    })
public final class DeleteCommand extends ClientCommand {
  private static final Duration FOREVER = Duration.ofDays(7);

  @Parameters(
      paramLabel = "TYPE[,TYPE] [NAME...] | TYPE/NAME...",
      arity = "0..*",
      description = "What to delete.")
  List<String> args;

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE|DIR|-",
      description = "Delete the objects in a manifest file, a directory, or - (repeatable).")
  List<String> files;

  @Option(
      names = {"-l", "--selector"},
      paramLabel = "SELECTOR",
      description = "Delete the objects of the given types matching this label selector.")
  String selector;

  @Option(
      names = "--field-selector",
      paramLabel = "SELECTOR",
      description = "Delete the objects of the given types matching this field selector.")
  String fieldSelector;

  @Option(names = "--all", description = "Delete all objects of the given types in the namespace.")
  boolean all;

  @Option(
      names = {"-A", "--all-namespaces"},
      description = "With -l or --all: in every namespace.")
  boolean allNamespaces;

  @Option(
      names = "--grace-period",
      paramLabel = "SECONDS",
      defaultValue = "-1",
      description =
          "Seconds a pod gets to stop; -1 (default) uses its own, 0 only with --force (else it"
              + " becomes 1).")
  int gracePeriod;

  @Option(names = "--now", description = "Stop immediately: the same as --grace-period=1.")
  boolean now;

  @Option(
      names = "--force",
      description =
          "With --grace-period=0 (the default then): delete without waiting for the kubelet to"
              + " confirm the pod stopped.")
  boolean force;

  @Option(
      names = "--cascade",
      paramLabel = "background|foreground|orphan",
      preprocessor = BareCascade.class,
      defaultValue = "background",
      description =
          "What happens to dependents (a deployment's replica sets, their pods): background"
              + " (default; the garbage collector deletes them afterwards), foreground (the object"
              + " stays until they are gone), orphan (they are kept).")
  String cascade;

  @Option(
      names = "--ignore-not-found",
      description = "Treat a missing object as deleted (the default with -l and --all).")
  Boolean ignoreNotFound;

  @Option(
      names = "--wait",
      arity = "0..1",
      paramLabel = "true|false",
      fallbackValue = "true",
      defaultValue = "true",
      description = "Wait until the objects are gone (default ${DEFAULT-VALUE}).")
  boolean waitForDeletion;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "0s",
      description = "How long to wait for the deletion (e.g. 30s, 2m); 0 waits as long as needed.")
  String timeout;

  @Option(
      names = "--dry-run",
      paramLabel = "none|server|client",
      defaultValue = "none",
      description =
          "server: the server checks and answers but deletes nothing; client: only print what"
              + " would be deleted (default: ${DEFAULT-VALUE}).")
  String dryRun;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "name",
      description = "name: print only resource/name of what is deleted.")
  String output;

  /** One object to delete: its resource, namespace (null if cluster-scoped), name, source file. */
  private record Victim(ApiResource resource, String namespace, String name, String source) {}

  /** A deletion the server accepted but did not finish yet. */
  private record Pending(Victim victim, String uid) {}

  @Override
  public Integer call() {
    DryRun dry = DryRun.parse(dryRun);
    if (output != null && !output.isEmpty() && !output.equals("name")) {
      throw new CliException(
          "unable to match a printer suitable for the output format \""
              + output
              + "\", allowed formats are: name");
    }
    String propagation = propagation(cascade);
    Duration limit = parseTimeout(timeout);
    if (now) {
      if (gracePeriod != -1) {
        throw new CliException("--now and --grace-period cannot be specified together");
      }
      gracePeriod = 1;
    }
    if (gracePeriod == 0 && !force) {
      // As kubectl: an accidental --grace-period=0 does not skip the kubelet; --force does.
      gracePeriod = 1;
    }
    if (force && gracePeriod < 0) {
      gracePeriod = 0;
    }
    if (force) {
      err()
          .println(
              "Warning: Immediate deletion does not wait for confirmation that the running"
                  + " resource has been terminated. The resource may continue to run on the"
                  + " cluster indefinitely.");
      err().flush();
    }
    boolean hasArgs = args != null && !args.isEmpty();
    boolean hasFiles = files != null && !files.isEmpty();
    boolean bySelector = all || selector != null || fieldSelector != null;
    boolean ignoreMissing = ignoreNotFound != null ? ignoreNotFound : bySelector;
    if (hasFiles && hasArgs) {
      throw new CliException(
          "when paths, URLs, or stdin is provided as input, you may not specify resource"
              + " arguments as well");
    }
    int exit = 0;
    List<Victim> victims = new ArrayList<>();
    if (hasFiles) {
      for (ManifestObjects.Entry e : ManifestObjects.read(session(), in(), files, "delete")) {
        if (e.problem() != null) {
          err().println("error: " + e.problem());
          exit = 1;
          continue;
        }
        e.object().requireName("deleting");
        victims.add(
            new Victim(
                e.object().resource(),
                e.object().namespace(),
                e.object().name(),
                e.object().manifest().quotedSource()));
      }
    } else if (hasArgs) {
      List<Target> targets = ResourceArgs.parse(session().resources(), args, "delete");
      for (Target t : targets) {
        if (t.names().isEmpty() && !bySelector) {
          throw new CliException("resource(s) were provided, but no name was specified");
        }
        if (!t.names().isEmpty() && bySelector) {
          throw new CliException("name cannot be provided when a selector is specified");
        }
        String ns = t.resource().resource().namespaced() ? session().namespace() : null;
        if (t.names().isEmpty()) {
          victims.addAll(matching(t.resource(), ns));
        } else {
          for (String name : t.names()) {
            victims.add(new Victim(t.resource(), ns, name, null));
          }
        }
      }
      if (victims.isEmpty() && bySelector) {
        out().println("No resources found");
        return exit;
      }
    } else {
      throw new CliException(
          String.join(
              "\n",
              "You must provide one or more resources by argument or filename.",
              "Example resource specifications include:",
              "   '-f rsrc.yaml'",
              "   '--filename=rsrc.json'",
              "   '<resource> <name>'",
              "   '<resource>'"));
    }
    boolean forced = force && gracePeriod == 0;
    List<Pending> pending = new ArrayList<>();
    for (Victim v : victims) {
      String display = display(v);
      if (dry == DryRun.CLIENT) {
        report(v, display, forced ? "force deleted" : "deleted", dry);
        continue;
      }
      ObjectNode answer;
      try {
        answer =
            session()
                .client()
                .call(
                    "DELETE",
                    v.resource().resource().path(v.namespace(), v.name()),
                    "application/json",
                    options(propagation, dry));
      } catch (ApiException e) {
        if (e.isNotFound() && ignoreMissing) {
          continue;
        }
        err()
            .println(
                WriteOutput.serverError(
                    e, v.source() == null ? null : "error when deleting " + v.source()));
        err().flush();
        exit = 1;
        continue;
      }
      report(v, display, forced ? "force deleted" : "deleted", dry);
      if (dry == DryRun.NONE && !"Status".equals(answer.path("kind").asText())) {
        pending.add(new Pending(v, Meta.uid(answer)));
      }
    }
    if (waitForDeletion && dry == DryRun.NONE && !pending.isEmpty()) {
      Instant deadline = Instant.now().plus(limit.isZero() ? FOREVER : limit);
      for (Pending p : pending) {
        if (!waitUntilGone(p, deadline)) {
          err()
              .println(
                  "error: timed out waiting for the condition on "
                      + p.victim().resource().resource()
                      + "/"
                      + p.victim().name());
          err().flush();
          exit = 1;
        }
      }
    }
    return exit;
  }

  private void report(Victim v, String display, String operation, DryRun dry) {
    if ("name".equals(output)) {
      out().println(ObjectPrinter.name(v.resource(), v.name()));
    } else {
      out().println(display + " " + operation + dry.suffix());
    }
    out().flush();
  }

  /** {@code pod "hello"}, {@code deployment.apps "web"}: how kubectl names what it deleted. */
  private static String display(Victim v) {
    String group = v.resource().resource().group();
    return v.resource().kind().toLowerCase(Locale.ROOT)
        + (group.isEmpty() ? "" : "." + group)
        + " \""
        + v.name()
        + "\"";
  }

  private List<Victim> matching(ApiResource r, String ns) {
    List<String> q = new ArrayList<>();
    if (selector != null) {
      q.add("labelSelector=" + encode(selector));
    }
    if (fieldSelector != null) {
      q.add("fieldSelector=" + encode(fieldSelector));
    }
    String path = r.resource().path(allNamespaces ? null : ns);
    ObjectNode list =
        session().client().getPath(path + (q.isEmpty() ? "" : "?" + String.join("&", q)));
    List<Victim> out = new ArrayList<>();
    for (JsonNode item : list.path("items")) {
      String itemNs = item.path("metadata").path("namespace").asText("");
      out.add(new Victim(r, itemNs.isEmpty() ? null : itemNs, Meta.name(item), null));
    }
    return out;
  }

  private ObjectNode options(String propagation, DryRun dry) {
    ObjectNode o = KubeClient.JSON.createObjectNode();
    o.put("kind", "DeleteOptions").put("apiVersion", "v1");
    if (gracePeriod >= 0) {
      o.put("gracePeriodSeconds", gracePeriod);
    }
    o.put("propagationPolicy", propagation);
    if (dry == DryRun.SERVER) {
      o.putArray("dryRun").add("All");
    }
    return o;
  }

  /**
   * Waits until the object with this uid is gone: a GET, then a watch on its name from that
   * resourceVersion until it is DELETED (re-reading after a watch ends or expires).
   */
  private boolean waitUntilGone(Pending p, Instant deadline) {
    Victim v = p.victim();
    KubeClient client = session().client();
    while (true) {
      ObjectNode current;
      try {
        current = client.getPath(v.resource().resource().path(v.namespace(), v.name()));
      } catch (ApiException e) {
        if (e.isNotFound()) {
          return true;
        }
        throw e;
      }
      if (p.uid() != null && !p.uid().isEmpty() && !p.uid().equals(Meta.uid(current))) {
        return true;
      }
      long left = Duration.between(Instant.now(), deadline).toSeconds();
      if (left <= 0) {
        return false;
      }
      String path =
          v.resource().resource().path(v.namespace())
              + "?watch=true&fieldSelector="
              + encode("metadata.name=" + v.name())
              + "&resourceVersion="
              + encode(Meta.resourceVersion(current))
              + "&timeoutSeconds="
              + Math.min(left, 600);
      try (Watch w = client.watchPath(path, "application/json")) {
        for (WatchEvent e = w.next(); e != null; e = w.next()) {
          if (e.isError()) {
            break;
          }
          if ("DELETED".equals(e.type())
              && (p.uid() == null || p.uid().equals(Meta.uid(e.object())))) {
            return true;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("watching " + path + " failed: " + e.getMessage(), e);
      }
    }
  }

  /**
   * A bare {@code --cascade} means background, and its value must be attached ({@code
   * --cascade=orphan}), as with kubectl's flag parser: {@code delete --cascade pod x} deletes pod x
   * in the background rather than taking "pod" for the policy.
   */
  static final class BareCascade implements IParameterPreprocessor {
    @Override
    public boolean preprocess(
        Stack<String> args, CommandSpec commandSpec, ArgSpec argSpec, Map<String, Object> info) {
      if (!"=".equals(info.get("separator"))) {
        args.push("background");
      }
      return false;
    }
  }

  static String propagation(String cascade) {
    return switch (cascade == null ? "background" : cascade) {
      case "background", "true" -> "Background";
      case "foreground" -> "Foreground";
      case "orphan", "false" -> "Orphan";
      default ->
          throw new CliException(
              "invalid cascade value ("
                  + cascade
                  + "). Must be \"background\", \"foreground\", or \"orphan\"");
    };
  }

  /** kubectl's durations: {@code 30s}, {@code 2m}, {@code 1h30m}, {@code 0}; plain seconds too. */
  static Duration parseTimeout(String s) {
    String t = s.strip();
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    try {
      if (t.matches("\\d+")) {
        return Duration.ofSeconds(Long.parseLong(t));
      }
      return Duration.parse("PT" + t.toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      throw new CliException(
          "invalid argument \""
              + s
              + "\" for \"--timeout\" flag: use a duration such as 30s or 2m");
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.KubectlLite;
import dev.kubelite.kubectl.describe.TabWriter;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code config view|use-context|get-contexts|current-context}: the kubeconfig files as kubectl
 * finds and merges them ({@code --kubeconfig}, else {@code $KUBECONFIG}'s files, else the default),
 * read and written without contacting any server.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "config",
    description = {
      "Read or change the kubeconfig: which clusters, users and contexts exist, and which one is"
          + " used.",
      "",
      "Examples:",
      "  kubectl-lite config view",
      "  kubectl-lite config view --minify --raw",
      "  kubectl-lite config get-contexts",
      "  kubectl-lite config current-context",
      "  kubectl-lite config use-context kubelite"
    },
    subcommands = {
      ConfigCommand.View.class,
      ConfigCommand.UseContext.class,
      ConfigCommand.GetContexts.class,
      ConfigCommand.CurrentContext.class
    })
public final class ConfigCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private static final ObjectMapper YAML =
      new ObjectMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
              .build());
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a subcommand is required: view, use-context, get-contexts or current-context");
  }

  /**
   * The kubeconfig files in use, merged as kubectl merges them (the first to name a thing wins).
   */
  abstract static class KubeconfigCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    List<Path> files() {
      KubectlLite root = (KubectlLite) spec.root().userObject();
      String location = root.session().kubeconfigLocation();
      List<Path> files = new ArrayList<>();
      if (location != null) {
        files.add(Path.of(location));
      } else {
        for (String p : System.getenv("KUBECONFIG").split(File.pathSeparator)) {
          if (!p.isEmpty() && Files.exists(Path.of(p))) {
            files.add(Path.of(p));
          }
        }
      }
      return files;
    }

    /** The merged kubeconfig: clusters, users and contexts by name, the first current-context. */
    ObjectNode merged() {
      Map<String, JsonNode> clusters = new TreeMap<>();
      Map<String, JsonNode> users = new TreeMap<>();
      Map<String, JsonNode> contexts = new TreeMap<>();
      String current = "";
      ObjectNode preferences = JSON.createObjectNode();
      for (Path f : files()) {
        if (!Files.exists(f)) {
          continue;
        }
        JsonNode root = read(f);
        collect(root.path("clusters"), clusters);
        collect(root.path("users"), users);
        collect(root.path("contexts"), contexts);
        if (current.isEmpty()) {
          current = root.path("current-context").asText("");
        }
        if (root.path("preferences").isObject() && preferences.isEmpty()) {
          preferences.setAll((ObjectNode) root.path("preferences"));
        }
      }
      ObjectNode c = JSON.createObjectNode();
      c.put("kind", "Config");
      c.put("apiVersion", "v1");
      c.set("preferences", preferences);
      c.set("clusters", array(clusters));
      c.set("users", array(users));
      c.set("contexts", array(contexts));
      c.put("current-context", current);
      return c;
    }

    static JsonNode read(Path f) {
      try {
        JsonNode root = YAML.readTree(f.toFile());
        if (root == null || root.isMissingNode() || root.isNull()) {
          return JSON.createObjectNode();
        }
        if (!root.isObject()) {
          throw new CliException("kubeconfig " + f + " is not a YAML mapping");
        }
        return root;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read kubeconfig " + f + ": " + e.getMessage(), e);
      }
    }

    private static void collect(JsonNode list, Map<String, JsonNode> into) {
      for (JsonNode n : list) {
        String name = n.path("name").asText("");
        if (!name.isEmpty()) {
          into.putIfAbsent(name, n);
        }
      }
    }

    private static ArrayNode array(Map<String, JsonNode> byName) {
      ArrayNode a = JSON.createArrayNode();
      byName.values().forEach(v -> a.add(v.deepCopy()));
      return a;
    }

    java.io.PrintWriter out() {
      return spec.commandLine().getOut();
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "view",
      description = {
        "Display the merged kubeconfig. Certificate and key data are shown as DATA+OMITTED,"
            + " tokens and passwords as REDACTED, unless --raw.",
        "",
        "Examples:",
        "  kubectl-lite config view",
        "  kubectl-lite config view --minify -o json"
      })
  static final class View extends KubeconfigCommand {
    @Option(
        names = "--raw",
        description = "Show certificate data, tokens and passwords as they are.")
    boolean raw;

    @Option(names = "--minify", description = "Only what the current context (or --context) uses.")
    boolean minify;

    @Option(
        names = {"-o", "--output"},
        defaultValue = "yaml",
        paramLabel = "FORMAT",
        description = "yaml (default) or json.")
    String output;

    @Override
    public Integer call() {
      if (!output.equals("yaml") && !output.equals("json")) {
        throw new CliException(
            "unable to match a printer suitable for the output format \""
                + output
                + "\", allowed formats are: json,yaml");
      }
      ObjectNode c = merged();
      if (minify) {
        minify(c);
      }
      if (!raw) {
        redact(c);
      }
      try {
        if (output.equals("json")) {
          out().println(JSON.writeValueAsString(c));
        } else {
          out().print(YAML.writeValueAsString(sorted(c)));
        }
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException("cannot print the kubeconfig: " + e.getMessage(), e);
      }
      return 0;
    }

    private void minify(ObjectNode c) {
      KubectlLite root = (KubectlLite) spec.root().userObject();
      String name = root.session().contextFlag();
      if (name == null || name.isEmpty()) {
        name = c.path("current-context").asText("");
      }
      if (name.isEmpty()) {
        throw new CliException("current-context must exist in order to minify");
      }
      JsonNode ctx = null;
      for (JsonNode n : c.path("contexts")) {
        if (n.path("name").asText().equals(name)) {
          ctx = n;
        }
      }
      if (ctx == null) {
        throw new CliException("cannot locate context " + name);
      }
      keepOnly(c, "contexts", name);
      keepOnly(c, "clusters", ctx.path("context").path("cluster").asText(""));
      keepOnly(c, "users", ctx.path("context").path("user").asText(""));
      c.put("current-context", name);
    }

    private static void keepOnly(ObjectNode c, String list, String name) {
      for (Iterator<JsonNode> it = c.withArray(list).elements(); it.hasNext(); ) {
        if (!it.next().path("name").asText().equals(name)) {
          it.remove();
        }
      }
    }

    private static void redact(ObjectNode c) {
      for (JsonNode cl : c.path("clusters")) {
        replaceIfSet(cl.path("cluster"), "certificate-authority-data", "DATA+OMITTED");
      }
      for (JsonNode u : c.path("users")) {
        replaceIfSet(u.path("user"), "client-certificate-data", "DATA+OMITTED");
        replaceIfSet(u.path("user"), "client-key-data", "DATA+OMITTED");
        replaceIfSet(u.path("user"), "token", "REDACTED");
        replaceIfSet(u.path("user"), "password", "REDACTED");
      }
    }

    private static void replaceIfSet(JsonNode n, String field, String with) {
      if (n instanceof ObjectNode o && !o.path(field).asText("").isEmpty()) {
        o.put(field, with);
      }
    }

    /** kubectl prints the kubeconfig with every mapping's keys sorted. */
    private static JsonNode sorted(JsonNode n) {
      if (n.isObject()) {
        ObjectNode out = JSON.createObjectNode();
        List<String> names = new ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        names.sort(null);
        for (String k : names) {
          out.set(k, sorted(n.get(k)));
        }
        return out;
      }
      if (n.isArray()) {
        ArrayNode out = JSON.createArrayNode();
        n.forEach(x -> out.add(sorted(x)));
        return out;
      }
      return n;
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "use-context",
      description = {
        "Set the current-context in the kubeconfig file (edited in place: the rest of the file"
            + " is kept as it is).",
        "",
        "Examples:",
        "  kubectl-lite config use-context kubelite"
      })
  static final class UseContext extends KubeconfigCommand {
    @Parameters(paramLabel = "CONTEXT_NAME", arity = "1")
    String name;

    private static final Pattern CURRENT =
        Pattern.compile("^current-context:.*$", Pattern.MULTILINE);

    @Override
    public Integer call() throws IOException {
      ObjectNode c = merged();
      boolean exists = false;
      for (JsonNode n : c.path("contexts")) {
        exists |= n.path("name").asText().equals(name);
      }
      if (!exists) {
        throw new CliException("no context exists with the name: \"" + name + "\"");
      }
      List<Path> files = files();
      if (files.isEmpty()) {
        throw new CliException("no kubeconfig file to write: pass --kubeconfig FILE");
      }
      // The file that sets the current-context now, else the first one (as kubectl).
      Path target = files.get(0);
      for (Path f : files) {
        if (Files.exists(f)
            && CURRENT.matcher(Files.readString(f, StandardCharsets.UTF_8)).find()) {
          target = f;
          break;
        }
      }
      String text = Files.exists(target) ? Files.readString(target, StandardCharsets.UTF_8) : "";
      String line = "current-context: " + yamlScalar(name);
      Matcher m = CURRENT.matcher(text);
      String updated;
      if (m.find()) {
        updated = text.substring(0, m.start()) + line + text.substring(m.end());
      } else {
        updated = text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + line + "\n";
      }
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
      Files.writeString(tmp, updated, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      out().println("Switched to context \"" + name + "\".");
      return 0;
    }

    private static String yamlScalar(String s) {
      if (s.matches("[A-Za-z0-9_./@-]+")
          && !s.matches("(?i)true|false|null|yes|no|on|off|[0-9.eE+-]+")) {
        return s;
      }
      return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "get-contexts",
      description = {
        "List the contexts of the kubeconfig (the current one marked with *).",
        "",
        "Examples:",
        "  kubectl-lite config get-contexts",
        "  kubectl-lite config get-contexts -o name"
      })
  static final class GetContexts extends KubeconfigCommand {
    @Parameters(paramLabel = "CONTEXT_NAME", arity = "0..*")
    List<String> names;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        description = "name: the names only.")
    String output;

    @Option(names = "--no-headers", description = "Leave out the header line.")
    boolean noHeaders;

    @Override
    public Integer call() {
      if (output != null && !output.isEmpty() && !output.equals("name")) {
        throw new CliException("output must be one of '' or 'name': " + output);
      }
      ObjectNode c = merged();
      String current = c.path("current-context").asText("");
      Map<String, JsonNode> byName = new TreeMap<>();
      c.path("contexts").forEach(n -> byName.put(n.path("name").asText(), n));
      List<String> shown = new ArrayList<>();
      List<String> missing = new ArrayList<>();
      if (names == null || names.isEmpty()) {
        shown.addAll(byName.keySet());
      } else {
        for (String n : names) {
          (byName.containsKey(n) ? shown : missing).add(n);
        }
      }
      if ("name".equals(output)) {
        shown.forEach(n -> out().println(n));
      } else {
        TabWriter tw = new TabWriter(3);
        if (!noHeaders) {
          tw.write("CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE\n");
        }
        for (String n : shown) {
          JsonNode ctx = byName.get(n).path("context");
          tw.write(
              (n.equals(current) ? "*" : "")
                  + "\t"
                  + n
                  + "\t"
                  + ctx.path("cluster").asText("")
                  + "\t"
                  + ctx.path("user").asText("")
                  + "\t"
                  + ctx.path("namespace").asText("")
                  + "\n");
        }
        out().print(tw.toString());
      }
      if (!missing.isEmpty()) {
        out().flush();
        throw new CliException("context " + String.join(", ", missing) + " not found");
      }
      return 0;
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "current-context",
      description = {
        "Display the current-context of the kubeconfig.",
        "",
        "Examples:",
        "  kubectl-lite config current-context"
      })
  static final class CurrentContext extends KubeconfigCommand {
    @Override
    public Integer call() {
      String current = merged().path("current-context").asText("");
      if (current.isEmpty()) {
        throw new CliException("current-context is not set");
      }
      out().println(current);
      return 0;
    }
  }
}

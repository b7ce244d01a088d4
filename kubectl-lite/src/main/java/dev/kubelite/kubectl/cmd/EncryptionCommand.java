package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.output.OutputFormat;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code encryption}: encryption at rest maintenance through the API server's {@code
 * /kubelite/v1/encryption/...} endpoints (docs/encryption-at-rest.md): {@code status} counts the
 * stored values per provider, {@code rewrite} re-encrypts the stale ones with the current key after
 * a rotation.
 */
@Command(
    name = "encryption",
    mixinStandardHelpOptions = true,
    description = {
      "Check and finish encryption at rest: which key each stored value was written with, and"
          + " rewriting the values that are not under the current write key (after a key"
          + " rotation, or after turning encryption on).",
      "",
      "Examples:",
      "  kubectl-lite encryption status",
      "  kubectl-lite encryption rewrite",
      "  kubectl-lite encryption rewrite --resource secrets -o yaml"
    },
    subcommands = {EncryptionCommand.Status.class, EncryptionCommand.Rewrite.class})
public final class EncryptionCommand implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: status or rewrite");
  }

  /** What both subcommands share: the resources to look at and the output format. */
  abstract static class Maintenance extends ClientCommand {
    @Option(
        names = "--resource",
        paramLabel = "RESOURCE",
        split = ",",
        description =
            "Only these resources (secrets, configmaps, deployments.apps, ...; repeatable or"
                + " comma-separated). Default: status every served resource, rewrite the"
                + " resources the encryption configuration lists.")
    List<String> resources = new ArrayList<>();

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        description = "json or yaml: the API server's whole answer.")
    String output;

    /** The last column: stale values (status) or values rewritten (rewrite). */
    abstract String countColumn();

    abstract ObjectNode ask(String pathAndQuery);

    abstract String endpoint();

    @Override
    public Integer call() {
      OutputFormat format = Columns.document(output);
      List<String> q = new ArrayList<>();
      for (String r : resources) {
        q.add("resource=" + URLEncoder.encode(r.trim(), StandardCharsets.UTF_8));
      }
      ObjectNode answer =
          ask(
              "/kubelite/v1/encryption/"
                  + endpoint()
                  + (q.isEmpty() ? "" : "?" + String.join("&", q)));
      if (format != null) {
        ObjectPrinter.printDocument(out(), format, answer);
      } else {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("RESOURCE", "WRITE PROVIDER", "CHECKED", "STORED WITH", countColumn()));
        for (JsonNode r : answer.path("resources")) {
          List<String> with = new ArrayList<>();
          r.path("storedWith")
              .fields()
              .forEachRemaining(e -> with.add(e.getKey() + "=" + e.getValue()));
          rows.add(
              List.of(
                  r.path("resource").asText(),
                  r.path("writeProvider").asText(),
                  Long.toString(r.path("checked").asLong()),
                  with.isEmpty() ? "<none>" : String.join(",", with),
                  Long.toString(
                      r.path(countColumn().toLowerCase(java.util.Locale.ROOT)).asLong())));
        }
        Columns.print(out(), rows);
      }
      long failed = 0;
      for (JsonNode r : answer.path("resources")) {
        for (JsonNode f : r.path("failed")) {
          err().println("error: " + f.path("key").asText() + ": " + f.path("error").asText());
          failed++;
        }
      }
      return failed == 0 ? 0 : 1;
    }
  }

  @Command(
      name = "status",
      description = {
        "Count each resource's stored values by the provider (key) that wrote them; STALE are the"
            + " ones not under the current write provider. Reads values, decrypts nothing.",
        "",
        "Examples:",
        "  kubectl-lite encryption status",
        "  kubectl-lite encryption status --resource secrets"
      })
  public static final class Status extends Maintenance {
    @Override
    String countColumn() {
      return "STALE";
    }

    @Override
    String endpoint() {
      return "status";
    }

    @Override
    ObjectNode ask(String pathAndQuery) {
      return session().client().getPath(pathAndQuery);
    }
  }

  @Command(
      name = "rewrite",
      description = {
        "Re-encrypt every stored value that is not under the current write provider (Kubernetes'"
            + " 'kubectl get secrets -A -o json | kubectl replace -f -', in one step). Objects"
            + " do not change; their resourceVersion moves on. Exit 1 if a value could not be"
            + " read with any configured key (each is listed).",
        "",
        "Examples:",
        "  kubectl-lite encryption rewrite",
        "  kubectl-lite encryption rewrite --resource secrets,configmaps"
      })
  public static final class Rewrite extends Maintenance {
    @Override
    String countColumn() {
      return "REWRITTEN";
    }

    @Override
    String endpoint() {
      return "rewrite";
    }

    @Override
    ObjectNode ask(String pathAndQuery) {
      return session().client().call("POST", pathAndQuery, null, null);
    }
  }
}

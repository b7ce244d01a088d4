package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.KubeClient;
import dev.kubelite.kubectl.CliException;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code auth}: questions about authorization ({@code auth can-i}). */
@Command(
    name = "auth",
    description = "Inspect authorization.",
    subcommands = {AuthCommand.CanI.class})
public final class AuthCommand implements Runnable {
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: can-i (see kubectl-lite auth --help)");
  }

  /**
   * {@code auth can-i}: asks the API server (a SelfSubjectAccessReview) whether the current user
   * may do something; prints yes or no and exits 0 or 1, as kubectl does.
   */
  @Command(
      name = "can-i",
      description = {
        "Check whether an action is allowed: prints yes (exit 0) or no (exit 1).",
        "",
        "VERB is a Kubernetes API verb (get, list, watch, create, update, patch, delete,"
            + " deletecollection, or * for all). TYPE is a resource type (pods, deployments.apps,"
            + " * for all) or, for a non-resource URL, a path starting with /.",
        "",
        "Examples:",
        "  kubectl-lite auth can-i create pods",
        "  kubectl-lite auth can-i create pods --subresource=binding -n kube-system",
        "  kubectl-lite auth can-i get configmaps/my-config",
        "  kubectl-lite auth can-i list pods -A",
        "  kubectl-lite auth can-i get /healthz"
      })
  public static final class CanI extends ClientCommand {
    @Parameters(index = "0", paramLabel = "VERB", description = "The verb.")
    String verb;

    @Parameters(
        index = "1",
        paramLabel = "TYPE[/NAME] | URL",
        description = "The resource type (optionally /NAME), or a non-resource URL.")
    String target;

    @Parameters(index = "2", arity = "0..1", paramLabel = "NAME", description = "An object name.")
    String name;

    @Option(
        names = "--subresource",
        paramLabel = "SUBRESOURCE",
        description = "A subresource, such as pods/log or deployments/scale.")
    String subresource;

    @Option(
        names = {"-A", "--all-namespaces"},
        description = "Ask about all namespaces (and cluster-scoped resources).")
    boolean allNamespaces;

    @Option(
        names = {"-q", "--quiet"},
        description = "Print nothing: the exit code tells the answer.")
    boolean quiet;

    @Override
    public Integer call() {
      ObjectNode review = KubeClient.JSON.createObjectNode();
      review.put("apiVersion", "authorization.k8s.io/v1");
      review.put("kind", "SelfSubjectAccessReview");
      ObjectNode spec = review.putObject("spec");
      if (target.startsWith("/")) {
        if (name != null || subresource != null) {
          throw new CliException("NAME and --subresource are not allowed with a non-resource URL");
        }
        spec.putObject("nonResourceAttributes")
            .put("verb", verb.toLowerCase(Locale.ROOT))
            .put("path", target);
      } else {
        String type = target;
        String objectName = name;
        int slash = target.indexOf('/');
        if (slash > 0) {
          if (name != null) {
            throw new CliException("there is more than one name: use TYPE/NAME or TYPE NAME");
          }
          type = target.substring(0, slash);
          objectName = target.substring(slash + 1);
        }
        ObjectNode attrs = spec.putObject("resourceAttributes");
        attrs.put("verb", verb.toLowerCase(Locale.ROOT));
        if (type.equals("*")) {
          attrs.put("group", "*").put("resource", "*");
        } else {
          try {
            ApiResource r = session().resources().resolve(type);
            attrs.put("group", r.resource().group()).put("resource", r.resource().resource());
          } catch (CliException e) {
            // As kubectl: ask about the type as written (a resource the server may learn later).
            err().println("Warning: the server doesn't have a resource type '" + type + "'");
            err().println();
            err().flush();
            int dot = type.indexOf('.');
            attrs.put("group", dot > 0 ? type.substring(dot + 1) : "");
            attrs.put("resource", dot > 0 ? type.substring(0, dot) : type);
          }
        }
        if (subresource != null) {
          attrs.put("subresource", subresource);
        }
        if (objectName != null) {
          attrs.put("name", objectName);
        }
        if (!allNamespaces) {
          attrs.put("namespace", session().namespace());
        }
      }
      JsonNode answer =
          session()
              .client()
              .call(
                  "POST",
                  "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                  "application/json",
                  review);
      JsonNode status = answer.path("status");
      boolean allowed = status.path("allowed").asBoolean(false);
      if (!quiet) {
        if (allowed) {
          out().println("yes");
        } else {
          StringBuilder line = new StringBuilder("no");
          String reason = status.path("reason").asText("");
          if (!reason.isEmpty()) {
            line.append(" - ").append(reason);
          }
          String error = status.path("evaluationError").asText("");
          if (!error.isEmpty()) {
            line.append(" - ").append(error);
          }
          out().println(line);
        }
        out().flush();
      }
      return allowed ? 0 : 1;
    }
  }
}

package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.ResourceArgs;
import dev.kubelite.kubectl.ResourceArgs.Target;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.write.WriteOutput;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code scale}: sets spec.replicas through the {@code scale} subresource when the server serves
 * one for the type (a merge patch of the Scale, or with a precondition a GET and a conditional
 * PUT), else with a merge patch of the object itself.
 */
@Command(
    name = "scale",
    description = {
      "Set a new size for a deployment or replica set.",
      "",
      "With --current-replicas (or --resource-version) the size changes only if it still is what"
          + " you expect.",
      "",
      "Examples:",
      "  kubectl-lite scale deployment web --replicas=5",
      "  kubectl-lite scale deploy/web --replicas=2 --current-replicas=5",
      "  kubectl-lite scale rs web-6d4cf56db6 --replicas=0"
    })
public final class ScaleCommand extends ClientCommand {
  /** Kinds with spec.replicas, scaled by a patch when the server serves no scale subresource. */
  private static final Set<String> REPLICATED =
      Set.of("Deployment", "ReplicaSet", "StatefulSet", "ReplicationController");

  @Parameters(
      paramLabel = "TYPE NAME... | TYPE/NAME...",
      arity = "1..*",
      description = "What to scale.")
  List<String> args;

  @Option(
      names = "--replicas",
      required = true,
      paramLabel = "COUNT",
      description = "The new number of replicas.")
  int replicas;

  @Option(
      names = "--current-replicas",
      paramLabel = "COUNT",
      defaultValue = "-1",
      description = "Precondition: scale only if the number of replicas is now this (-1: any).")
  int currentReplicas;

  @Option(
      names = "--resource-version",
      paramLabel = "RV",
      description = "Precondition: scale only if the object's resourceVersion is this.")
  String resourceVersion;

  @Override
  public Integer call() {
    if (replicas < 0) {
      throw new CliException(
          "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
    }
    List<Target> targets = ResourceArgs.parse(session().resources(), args, "scale");
    int exit = 0;
    for (Target t : targets) {
      if (t.names().isEmpty()) {
        throw new CliException("resource(s) were provided, but no name was specified");
      }
      boolean subresource = servesScale(t.resource());
      if (!subresource && !REPLICATED.contains(t.resource().kind())) {
        throw new CliException(
            t.resource().resource()
                + " cannot be scaled: the server serves no "
                + t.resource().resource().resource()
                + "/scale subresource and they have no spec.replicas");
      }
      String ns = t.resource().resource().namespaced() ? session().namespace() : null;
      for (String name : t.names()) {
        try {
          scale(t.resource().resource(), ns, name, subresource);
          out().println(ObjectPrinter.name(t.resource(), name) + " scaled");
          out().flush();
        } catch (ApiException e) {
          err().println(WriteOutput.serverError(e, null));
          err().flush();
          exit = 1;
        } catch (CliException e) {
          err().println("error: " + e.getMessage());
          err().flush();
          exit = 1;
        }
      }
    }
    return exit;
  }

  private void scale(Resource r, String ns, String name, boolean subresource) {
    KubeClient client = session().client();
    String path = r.path(ns, name) + (subresource ? "/scale" : "");
    boolean precondition = currentReplicas >= 0 || resourceVersion != null;
    if (!precondition) {
      ObjectNode patch = KubeClient.JSON.createObjectNode();
      patch.putObject("spec").put("replicas", replicas);
      client.call("PATCH", path, PatchType.MERGE.contentType, patch);
      return;
    }
    ObjectNode current = client.getPath(path);
    JsonNode now = current.path("spec").path("replicas");
    int have = now.isMissingNode() ? 1 : now.asInt();
    if (currentReplicas >= 0 && have != currentReplicas) {
      throw new CliException("Expected replicas to be " + currentReplicas + ", was " + have);
    }
    String rv = current.path("metadata").path("resourceVersion").asText("");
    if (resourceVersion != null && !resourceVersion.equals(rv)) {
      throw new CliException("Expected resource version to be " + resourceVersion + ", was " + rv);
    }
    // The resourceVersion makes the write conditional: a change in between is a Conflict.
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    patch.putObject("metadata").put("resourceVersion", rv);
    patch.putObject("spec").put("replicas", replicas);
    client.call("PATCH", path, PatchType.MERGE.contentType, patch);
  }

  /** Whether discovery lists {@code <resource>/scale} in the resource's group-version. */
  private boolean servesScale(ApiResource r) {
    Resource res = r.resource();
    String gv =
        res.group().isEmpty()
            ? "/api/" + res.version()
            : "/apis/" + res.group() + "/" + res.version();
    for (JsonNode x : session().client().getPath(gv).path("resources")) {
      if (x.path("name").asText().equals(res.resource() + "/scale")) {
        return true;
      }
    }
    return false;
  }
}

package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.input.ManifestObject;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.patch.LastApplied;
import dev.kubelite.kubectl.write.ApiFailure;
import dev.kubelite.kubectl.write.DryRun;
import dev.kubelite.kubectl.write.ManifestObjects;
import dev.kubelite.kubectl.write.WriteOutput;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code create -f}: POST each object (an existing one is an {@code AlreadyExists} error, unlike
 * {@code apply}); {@code create namespace NAME}.
 */
@Command(
    name = "create",
    description = {
      "Create resources from files or standard input; it is an error if one already exists (use"
          + " apply to create or update).",
      "",
      "Examples:",
      "  kubectl-lite create -f manifests/pod.yaml",
      "  kubectl-lite create -f manifests/ --dry-run=server",
      "  kubectl-lite create namespace shop"
    },
    subcommands = {CreateCommand.Namespace.class})
public final class CreateCommand extends ClientCommand {
  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE|DIR|-",
      description = "A manifest file, a directory of them, or - for standard input (repeatable).")
  List<String> files;

  @Option(
      names = "--save-config",
      description =
          "Store the configuration in the last-applied annotation, so that apply can update it"
              + " later as if apply had created it.")
  boolean saveConfig;

  @Mixin WriteFlags write;

  @Override
  public Integer call() {
    if (files == null || files.isEmpty()) {
      throw new CliException(
          "must specify -f FILE (or a subcommand: kubectl-lite create namespace NAME); see"
              + " 'kubectl-lite create --help'");
    }
    DryRun dry = write.dryRun();
    WriteOutput results = write.output(out(), dry);
    List<ManifestObjects.Entry> entries = ManifestObjects.read(session(), in(), files, "create");
    int exit = ManifestObjects.forEach(entries, err(), o -> create(o, dry, results));
    results.finish();
    return exit;
  }

  private void create(ManifestObject o, DryRun dry, WriteOutput results) {
    if (o.name().isEmpty()
        && o.object().path("metadata").path("generateName").asText("").isEmpty()) {
      o.requireName("creating");
    }
    ObjectNode body = saveConfig ? LastApplied.annotate(o.object()) : o.object();
    if (dry == DryRun.CLIENT) {
      results.done(o.displayName(), "created", body);
      return;
    }
    try {
      ObjectNode created =
          session()
              .client()
              .call(
                  "POST",
                  o.resource().resource().path(o.namespace()) + dry.query('?'),
                  "application/json",
                  body);
      String name = created.path("metadata").path("name").asText(o.name());
      results.done(ObjectPrinter.name(o.resource(), name), "created", created);
    } catch (ApiException e) {
      throw new ApiFailure(e, "error when creating " + o.manifest().quotedSource());
    }
  }

  /** {@code create namespace NAME} (also {@code create ns}). */
  @Command(
      name = "namespace",
      aliases = "ns",
      description = {
        "Create a namespace with the given name.",
        "",
        "Examples:",
        "  kubectl-lite create namespace shop",
        "  kubectl-lite create ns shop --dry-run=client -o yaml"
      })
  public static final class Namespace extends ClientCommand {
    @Parameters(paramLabel = "NAME", description = "The namespace's name.")
    String name;

    @Mixin WriteFlags write;

    @Override
    public Integer call() {
      DryRun dry = write.dryRun();
      WriteOutput results = write.output(out(), dry);
      ObjectNode ns = KubeClient.JSON.createObjectNode();
      ns.put("apiVersion", "v1").put("kind", "Namespace");
      ns.putObject("metadata").put("name", name);
      ns.putObject("spec");
      ns.putObject("status");
      ObjectNode created = ns;
      if (dry != DryRun.CLIENT) {
        try {
          created =
              session()
                  .client()
                  .call(
                      "POST",
                      Resource.NAMESPACES.path(null) + dry.query('?'),
                      "application/json",
                      ns);
        } catch (ApiException e) {
          err().println(WriteOutput.serverError(e, null));
          return 1;
        }
      }
      results.done("namespace/" + name, "created", created);
      results.finish();
      return 0;
    }
  }
}

package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.PatchType;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.ResourceArgs;
import dev.kubelite.kubectl.ResourceArgs.Target;
import dev.kubelite.kubectl.input.ManifestReader;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.patch.ThreeWayPatch;
import dev.kubelite.kubectl.write.DryRun;
import dev.kubelite.kubectl.write.ManifestObjects;
import dev.kubelite.kubectl.write.WriteOutput;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code patch}: PATCH with the patch as given (JSON or YAML, turned into JSON), in the format
 * {@code --type} names; {@code patched (no change)} when the object came back as it was.
 */
@Command(
    name = "patch",
    description = {
      "Update fields of a resource with a strategic merge patch (default), a JSON merge patch (RFC"
          + " 7386) or a JSON patch (RFC 6902). The patch may be written in JSON or YAML.",
      "",
      "Examples:",
      "  kubectl-lite patch deployment web -p '{\"spec\":{\"replicas\":2}}'",
      "  kubectl-lite patch pod hello -p '{\"metadata\":{\"labels\":{\"tier\":\"front\"}}}'",
      "  kubectl-lite patch deploy/web --type merge -p 'spec: {paused: true}'",
      "  kubectl-lite patch deploy web --type json"
          + " -p '[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":4}]'"
    })
public final class PatchCommand extends ClientCommand {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Parameters(paramLabel = "TYPE NAME | TYPE/NAME", arity = "1..*", description = "What to patch.")
  List<String> args;

  @Option(
      names = {"-p", "--patch"},
      required = true,
      paramLabel = "PATCH",
      description = "The patch, in JSON or YAML.")
  String patch;

  @Option(
      names = "--type",
      paramLabel = "strategic|merge|json",
      defaultValue = "strategic",
      description = "The patch format (default: ${DEFAULT-VALUE}).")
  String type;

  @Mixin WriteFlags write;

  @Override
  public Integer call() {
    PatchType patchType =
        switch (type) {
          case "strategic" -> PatchType.STRATEGIC;
          case "merge" -> PatchType.MERGE;
          case "json" -> PatchType.JSON;
          default ->
              throw new CliException(
                  "--type must be one of [json merge strategic], not \"" + type + "\"");
        };
    DryRun dry = write.dryRun();
    WriteOutput results = write.output(out(), dry);
    JsonNode body = parse(patch);
    if (patchType == PatchType.JSON && !body.isArray()) {
      throw new CliException(
          "a JSON patch (--type json) must be a list of operations, such as"
              + " [{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":2}]");
    }
    if (patchType != PatchType.JSON && !body.isObject()) {
      throw new CliException(
          "a " + type + " patch must be an object, such as {\"spec\":{\"replicas\":2}}");
    }
    List<Target> targets = ResourceArgs.parse(session().resources(), args, "patch");
    KubeClient client = session().client();
    int exit = 0;
    for (Target t : targets) {
      if (t.names().isEmpty()) {
        throw new CliException("resource(s) were provided, but no name was specified");
      }
      if (patchType == PatchType.STRATEGIC && !ManifestObjects.strategic(t.resource())) {
        throw new CliException(
            "strategic merge patch is not supported for "
                + t.resource().resource()
                + ": use --type merge or --type json");
      }
      String ns = t.resource().resource().namespaced() ? session().namespace() : null;
      for (String name : t.names()) {
        String path = t.resource().resource().path(ns, name);
        String display = ObjectPrinter.name(t.resource(), name);
        try {
          ObjectNode before = client.getPath(path);
          if (dry == DryRun.CLIENT) {
            results.done(display, "patched", before);
            continue;
          }
          ObjectNode after =
              client.call("PATCH", path + dry.query('?'), patchType.contentType, body);
          boolean changed = !ThreeWayPatch.same(before, after);
          results.done(display, changed ? "patched" : "patched (no change)", after);
        } catch (ApiException e) {
          err().println(WriteOutput.serverError(e, null));
          err().flush();
          exit = 1;
        }
      }
    }
    results.finish();
    return exit;
  }

  private static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException notJson) {
      try {
        JsonNode n = YAML.readTree(text);
        if (n == null || n.isMissingNode()) {
          throw new CliException("unable to parse \"" + text + "\": the patch is empty");
        }
        return n;
      } catch (JsonProcessingException e) {
        throw new CliException(
            "unable to parse \""
                + text
                + "\": "
                + ManifestReader.problem(e)
                + " (line "
                + ManifestReader.line(e)
                + ")");
      }
    }
  }
}

package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.PatchType;
import dev.kubelite.kubectl.input.ManifestObject;
import dev.kubelite.kubectl.patch.LastApplied;
import dev.kubelite.kubectl.patch.ThreeWayPatch;
import dev.kubelite.kubectl.write.ApiFailure;
import dev.kubelite.kubectl.write.DryRun;
import dev.kubelite.kubectl.write.ManifestObjects;
import dev.kubelite.kubectl.write.WriteOutput;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code apply -f}: client-side apply, as kubectl does it without {@code --server-side}. Creates
 * what is absent (with the last-applied annotation), else sends the three-way patch computed from
 * the last-applied configuration, the manifest and the live object (see {@link ThreeWayPatch} and
 * docs/decisions/0080-kubectl-lite-apply.md).
 */
@Command(
    name = "apply",
    description = {
      "Apply a configuration to resources from files or standard input: create what does not exist,"
          + " update what does.",
      "",
      "Fields the manifest no longer sets (but set last time) are removed; fields others set (the"
          + " replicas `scale` changed, status) are kept. The applied configuration is stored in"
          + " the kubectl.kubernetes.io/last-applied-configuration annotation.",
      "",
      "Examples:",
      "  kubectl-lite apply -f manifests/deployment.yaml",
      "  kubectl-lite apply -f manifests/            # every *.yaml, *.yml, *.json in it",
      "  cat pod.json | kubectl-lite apply -f -",
      "  kubectl-lite apply -f app.yaml --dry-run=server -o yaml"
    })
public final class ApplyCommand extends ClientCommand {
  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "FILE|DIR|-",
      description = "A manifest file, a directory of them, or - for standard input (repeatable).")
  List<String> files;

  @Option(
      names = "--dry-run",
      paramLabel = "none|server|client",
      defaultValue = "none",
      description =
          "server: the server checks and answers but stores nothing; client: only print what"
              + " would be sent (default: ${DEFAULT-VALUE}).")
  String dryRun;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "Print the applied objects as yaml, json, or their names (name).")
  String output;

  @Override
  public Integer call() {
    DryRun dry = DryRun.parse(dryRun);
    WriteOutput results = new WriteOutput(out(), output, dry);
    List<ManifestObjects.Entry> entries = ManifestObjects.read(session(), in(), files, "apply");
    int exit = ManifestObjects.forEach(entries, err(), o -> apply(o, dry, results));
    results.finish();
    return exit;
  }

  private void apply(ManifestObject o, DryRun dry, WriteOutput results) {
    o.requireName("applying");
    KubeClient client = session().client();
    String source = o.manifest().quotedSource();
    ObjectNode modified = LastApplied.annotate(o.object());
    ObjectNode current;
    try {
      current = client.getPath(o.path());
    } catch (ApiException e) {
      if (!e.isNotFound()) {
        throw new ApiFailure(
            e,
            "error when retrieving current configuration of "
                + o.displayName()
                + " from "
                + source);
      }
      current = null;
    }
    if (current == null) {
      if (dry == DryRun.CLIENT) {
        results.done(o.displayName(), "created", modified);
        return;
      }
      try {
        ObjectNode created =
            client.call(
                "POST",
                o.resource().resource().path(o.namespace()) + dry.query('?'),
                "application/json",
                modified);
        results.done(o.displayName(), "created", created);
      } catch (ApiException e) {
        throw new ApiFailure(e, "error when creating " + source);
      }
      return;
    }
    if (!LastApplied.present(current)) {
      err()
          .println(
              "Warning: resource "
                  + o.resource().resource().resource()
                  + "/"
                  + o.name()
                  + " is missing the "
                  + LastApplied.ANNOTATION
                  + " annotation which is required by kubectl-lite apply. kubectl-lite apply"
                  + " should only be used on resources created declaratively by either"
                  + " kubectl-lite create --save-config or kubectl-lite apply. The missing"
                  + " annotation will be patched automatically.");
      err().flush();
    }
    boolean strategic = ManifestObjects.strategic(o.resource());
    ObjectNode patch =
        ThreeWayPatch.compute(
            o.resource().kind(),
            strategic ? ThreeWayPatch.Mode.STRATEGIC : ThreeWayPatch.Mode.JSON_MERGE,
            LastApplied.of(current),
            modified,
            current);
    if (patch.isEmpty()) {
      results.done(o.displayName(), "unchanged", current);
      return;
    }
    if (dry == DryRun.CLIENT) {
      results.done(o.displayName(), "configured", current);
      return;
    }
    try {
      ObjectNode patched =
          client.call(
              "PATCH",
              o.path() + dry.query('?'),
              (strategic ? PatchType.STRATEGIC : PatchType.MERGE).contentType,
              patch);
      results.done(o.displayName(), "configured", patched);
    } catch (ApiException e) {
      throw new ApiFailure(e, "error when patching " + source);
    }
  }
}

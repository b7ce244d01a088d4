package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.PatchType;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.input.ManifestObject;
import dev.kubelite.kubectl.patch.LastApplied;
import dev.kubelite.kubectl.patch.ThreeWayPatch;
import dev.kubelite.kubectl.write.ApiFailure;
import dev.kubelite.kubectl.write.DryRun;
import dev.kubelite.kubectl.write.ManifestObjects;
import dev.kubelite.kubectl.write.WriteOutput;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code apply -f}: client-side apply, as kubectl does it without {@code --server-side}. Creates
 * what is absent (with the last-applied annotation), else sends the three-way patch computed from
 * the last-applied configuration, the manifest and the live object (see {@link ThreeWayPatch} and
 * docs/decisions/0080-kubectl-lite-apply.md). With {@code --server-side} the manifest goes to the
 * server as an apply patch and the server merges it, tracking who owns which field.
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
      "  kubectl-lite apply -f app.yaml --dry-run=server -o yaml",
      "  kubectl-lite apply --server-side -f manifests/deployment.yaml",
      "",
      "With --server-side the server merges the manifest and records which fields each manager"
          + " (--field-manager) owns; a field another manager set is a conflict unless"
          + " --force-conflicts takes it over."
    })
public final class ApplyCommand extends ClientCommand {
  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "FILE|DIR|-",
      description = "A manifest file, a directory of them, or - for standard input (repeatable).")
  List<String> files;

  @Mixin WriteFlags write;

  @Option(
      names = "--server-side",
      description = "Let the server merge the manifest (server-side apply) instead of the client.")
  boolean serverSide;

  @Option(
      names = "--force-conflicts",
      description =
          "With --server-side: take over fields another manager owns instead of failing on them.")
  boolean forceConflicts;

  @Option(
      names = "--field-manager",
      paramLabel = "NAME",
      description =
          "The name the server records as the manager of the fields written (default:"
              + " kubectl-client-side-apply, or kubectl with --server-side).")
  String fieldManager;

  @Override
  public Integer call() {
    DryRun dry = write.dryRun();
    if (forceConflicts && !serverSide) {
      throw new CliException("--force-conflicts only works with --server-side");
    }
    if (serverSide && dry == DryRun.CLIENT) {
      throw new CliException(
          "--dry-run=client does not work with --server-side (--dry-run=server does)");
    }
    WriteOutput results = write.output(out(), dry);
    List<ManifestObjects.Entry> entries = ManifestObjects.read(session(), in(), files, "apply");
    int exit =
        ManifestObjects.forEach(
            entries,
            err(),
            o -> {
              if (serverSide) {
                applyOnServer(o, dry, results);
              } else {
                apply(o, dry, results);
              }
            });
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
                o.resource().resource().path(o.namespace()) + query(dry, false),
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
              o.path() + query(dry, false),
              (strategic ? PatchType.STRATEGIC : PatchType.MERGE).contentType,
              patch);
      results.done(o.displayName(), "configured", patched);
    } catch (ApiException e) {
      throw new ApiFailure(e, "error when patching " + source);
    }
  }

  /** Server-side apply: one PATCH with the manifest; the server creates or merges. */
  private void applyOnServer(ManifestObject o, DryRun dry, WriteOutput results) {
    o.requireName("applying");
    try {
      ObjectNode applied =
          session()
              .client()
              .call("PATCH", o.path() + query(dry, true), PatchType.APPLY.contentType, o.object());
      results.done(o.displayName(), "serverside-applied", applied);
    } catch (ApiException e) {
      if (e.isConflict() && e.status().path("message").asText("").startsWith("Apply failed")) {
        throw new CliException(
            e.status().path("message").asText()
                + "\nOther managers own the fields above. To write them anyway and become their"
                + " manager, run again with --force-conflicts; to leave them to their managers,"
                + " remove them from the manifest (or set them to the values they have now to"
                + " share them).");
      }
      throw new ApiFailure(e, "error when applying " + o.manifest().quotedSource());
    }
  }

  /** {@code ?fieldManager=...} (and {@code &force=true}, {@code &dryRun=All}) for a write. */
  private String query(DryRun dry, boolean serverSideApply) {
    String manager =
        fieldManager != null
            ? fieldManager
            : serverSideApply ? "kubectl" : "kubectl-client-side-apply";
    return "?fieldManager="
        + URLEncoder.encode(manager, StandardCharsets.UTF_8)
        + (serverSideApply && forceConflicts ? "&force=true" : "")
        + dry.query('&');
  }
}

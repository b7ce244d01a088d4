package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.ApiException.Cause;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.managed.ManagedFields;
import dev.kubelite.apiserver.patch.JsonPatch;
import dev.kubelite.apiserver.patch.MergePatch;
import dev.kubelite.apiserver.patch.PatchException;
import dev.kubelite.apiserver.patch.StrategicMergePatch;
import dev.kubelite.apiserver.registry.FieldTracking;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.ObjectStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * PATCH on an object or its status: the patch is applied to the current stored object and the
 * result goes through the same update path as a PUT (status rules, generation, validation), with
 * retries when another writer got there first. A resourceVersion in the patch is a precondition.
 */
public final class PatchHandler {
  private final Registry registry;

  public PatchHandler(Registry registry) {
    this.registry = registry;
  }

  /** The function that applies this request's patch body to an object (for scale too). */
  static UnaryOperator<ObjectNode> patcher(Exchange ex, String kind) {
    String type = ex.contentType();
    byte[] body = ex.body();
    return switch (type) {
      case "application/json-patch+json" -> {
        JsonNode patch = Json.parse(body, "the JSON patch");
        yield obj -> asObject(JsonPatch.apply(obj, patch));
      }
      case "application/merge-patch+json" -> {
        JsonNode patch = Json.parse(body, "the merge patch");
        if (!patch.isObject()) {
          throw ApiException.badRequest("a merge patch must be a JSON object");
        }
        yield obj -> asObject(MergePatch.apply(obj, patch));
      }
      case "application/strategic-merge-patch+json" -> {
        JsonNode patch = Json.parse(body, "the strategic merge patch");
        if (!patch.isObject()) {
          throw ApiException.badRequest("a strategic merge patch must be a JSON object");
        }
        yield obj -> StrategicMergePatch.apply(kind, obj, patch);
      }
      case APPLY_PATCH ->
          throw ApiException.unsupportedMediaType(
              "server-side apply is not served on the "
                  + kind
                  + " subresource by kubelite; apply spec.replicas to the object itself");
      default ->
          throw ApiException.unsupportedMediaType(
              "the body of the request was in an unknown format - accepted media types include:"
                  + " application/json-patch+json, application/merge-patch+json,"
                  + " application/strategic-merge-patch+json, application/apply-patch+yaml");
    };
  }

  private static ObjectNode asObject(JsonNode n) {
    if (n instanceof ObjectNode o) {
      return o;
    }
    throw new PatchException("the patched document is not an object");
  }

  /** Applies the patch; PatchException becomes 422 as in Kubernetes. */
  static ObjectNode applyPatch(UnaryOperator<ObjectNode> patcher, ObjectNode current) {
    try {
      return patcher.apply(current.deepCopy());
    } catch (PatchException e) {
      throw ApiException.unprocessable(e.getMessage());
    }
  }

  /** The media type of a server-side apply (kubectl sends JSON in it; YAML is accepted too). */
  static final String APPLY_PATCH = "application/apply-patch+yaml";

  public void patch(Exchange ex) {
    if (ex.contentType().equals(APPLY_PATCH)) {
      apply(ex);
      return;
    }
    Registry registry = DryRun.pick(ex, this.registry);
    FieldValidation.Mode mode = FieldValidation.mode(ex);
    checkNotForced(ex);
    UnaryOperator<ObjectNode> patcher = patcher(ex, ex.type().kind());
    FieldValidation.checkPatchBody(ex, mode);
    FieldTracking tracking = FieldManagers.updates(ex, "PatchOptions", ex.subresource());
    ex.complete(
        registry.guaranteedUpdateSaved(
            ex.type(),
            ex.namespace(),
            ex.name(),
            ex.subresource(),
            current -> {
              ObjectNode patched = applyPatch(patcher, current.object());
              checkPreconditions(ex, current.object(), patched);
              FieldValidation.checkPatched(ex, mode, patched);
              return patched;
            },
            false,
            tracking),
        updated -> Render.reply(ex, 200, updated));
  }

  /** {@code force} belongs to apply; on other patches it is refused, as in Kubernetes. */
  static void checkNotForced(Exchange ex) {
    if (ex.query("force") != null) {
      throw ApiException.invalid(
          "meta.k8s.io",
          "PatchOptions",
          "",
          List.of(
              new Cause(
                  "FieldValueForbidden",
                  "force",
                  "Forbidden: may not be specified for non-apply patch")));
    }
  }

  // ------------------------------------------------------------------------ server-side apply

  /**
   * Server-side apply: the body is the manager's whole intent for the object. The object is created
   * when missing (through the ordinary create path: namespace rules, defaults, validation), else
   * the configuration is merged in by {@link ManagedFields#apply}; conflicts with other managers
   * are a 409 unless {@code force=true}.
   */
  private void apply(Exchange ex) {
    Registry registry = DryRun.pick(ex, this.registry);
    FieldValidation.Mode mode = FieldValidation.mode(ex);
    String manager = FieldManagers.requested(ex, "PatchOptions");
    if (manager.isEmpty()) {
      throw ApiException.invalid(
          "meta.k8s.io",
          "PatchOptions",
          "",
          List.of(
              new Cause(
                  "FieldValueRequired",
                  "fieldManager",
                  "Required value: is required for apply patch")));
    }
    boolean force = parseForce(ex.query("force"));
    ObjectNode config = applyConfiguration(ex);
    FieldValidation.checkBody(ex, mode, config);
    ResourceType t = ex.type();
    String sub = ex.subresource();
    ex.complete(
        applyTo(registry, ex, t, sub, config, manager, force, true),
        r -> ex.reply(r.created() ? 201 : 200, Render.object(ex, r.object())));
  }

  private record Applied(ObjectNode object, boolean created) {}

  private static CompletableFuture<Applied> applyTo(
      Registry registry,
      Exchange ex,
      ResourceType t,
      String sub,
      ObjectNode config,
      String manager,
      boolean force,
      boolean mayCreate) {
    return registry
        .guaranteedUpdate(
            t,
            ex.namespace(),
            ex.name(),
            sub,
            current -> {
              checkPreconditions(ex, current.object(), config);
              ObjectNode clean = withoutServerMetadata(config);
              return ManagedFields.apply(
                  t, current.object(), clean, manager, sub, force, registry.now());
            },
            false)
        .thenApply(obj -> new Applied(obj, false))
        .exceptionallyCompose(
            e -> {
              ApiException a = ObjectStorage.translate(e);
              boolean missing =
                  a.code() == 404 && "NotFound".equals(a.reason()) && mayCreate && sub == null;
              if (!missing) {
                return CompletableFuture.failedFuture(a);
              }
              ObjectNode obj =
                  ManagedFields.apply(
                      t, null, withoutServerMetadata(config), manager, null, force, registry.now());
              return registry
                  .create(t, ex.namespace(), obj)
                  .thenApply(created -> new Applied(created, true))
                  .exceptionallyCompose(
                      ce -> {
                        ApiException c = ObjectStorage.translate(ce);
                        if (c.code() == 409 && "AlreadyExists".equals(c.reason())) {
                          // Created meanwhile by someone else: apply to it instead.
                          return applyTo(registry, ex, t, sub, config, manager, force, false);
                        }
                        return CompletableFuture.failedFuture(c);
                      });
            });
  }

  private static boolean parseForce(String v) {
    if (v == null || v.isEmpty() || v.equals("false")) {
      return false;
    }
    if (v.equals("true")) {
      return true;
    }
    throw ApiException.badRequest("force must be true or false, got \"" + v + "\"");
  }

  /**
   * The applied configuration: one YAML or JSON object whose apiVersion and kind are the URL's
   * resource and whose name (and namespace) are the URL's; nulls carry no intent and are dropped;
   * for a kind with a status subresource the main resource takes no status and the status
   * subresource nothing but status.
   */
  static ObjectNode applyConfiguration(Exchange ex) {
    ResourceType t = ex.type();
    ObjectNode config = Json.parseObject(ex.body(), true);
    String apiVersion = config.path("apiVersion").asText("");
    String kind = config.path("kind").asText("");
    if (!apiVersion.equals(t.apiVersion()) || !kind.equals(t.kind())) {
      String group = apiVersion.contains("/") ? "" : "/";
      throw ApiException.badRequest(
          "invalid object type: " + group + apiVersion + ", Kind=" + kind);
    }
    JsonNode meta = config.get("metadata");
    if (meta != null && !meta.isObject() && !meta.isNull()) {
      throw ApiException.badRequest("metadata must be an object");
    }
    ObjectNode m = Json.child(config, "metadata");
    JsonNode mf = m.get("managedFields");
    if (mf != null && !mf.isNull()) {
      throw ApiException.badRequest("metadata.managedFields must be nil");
    }
    String name = Json.text(m, "name");
    if (name == null || name.isEmpty()) {
      m.put("name", ex.name());
    } else if (!name.equals(ex.name())) {
      throw ApiException.badRequest(
          "the name of the object ("
              + name
              + ") does not match the name on the URL ("
              + ex.name()
              + ")");
    }
    if (t.namespaced()) {
      String ns = Json.text(m, "namespace");
      if (ns != null && !ns.isEmpty() && !ns.equals(ex.namespace())) {
        throw ApiException.badRequest(
            "the namespace of the provided object does not match the namespace sent on the"
                + " request");
      }
      m.put("namespace", ex.namespace());
    } else {
      m.remove("namespace");
    }
    dropNulls(config);
    if ("status".equals(ex.subresource())) {
      ObjectNode only = Json.object();
      only.put("apiVersion", apiVersion).put("kind", kind);
      ObjectNode om = only.putObject("metadata");
      om.set("name", m.get("name"));
      if (m.has("namespace")) {
        om.set("namespace", m.get("namespace"));
      }
      if (m.has("resourceVersion")) {
        om.set("resourceVersion", m.get("resourceVersion"));
      }
      if (config.has("status")) {
        only.set("status", config.get("status"));
      }
      return only;
    }
    if (t.hasStatus()) {
      config.remove("status");
    }
    return config;
  }

  private static void dropNulls(JsonNode n) {
    if (n instanceof ObjectNode o) {
      List<String> nulls = new ArrayList<>();
      o.fields()
          .forEachRemaining(
              e -> {
                if (e.getValue().isNull()) {
                  nulls.add(e.getKey());
                } else {
                  dropNulls(e.getValue());
                }
              });
      o.remove(nulls);
    } else if (n != null && n.isArray()) {
      n.forEach(PatchHandler::dropNulls);
    }
  }

  /** The configuration without what only the server sets (resourceVersion is a precondition). */
  private static ObjectNode withoutServerMetadata(ObjectNode config) {
    ObjectNode c = config.deepCopy();
    ObjectNode m = Json.child(c, "metadata");
    for (String f :
        List.of(
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "managedFields")) {
      m.remove(f);
    }
    return c;
  }

  /** A patch may not rename the object; a resourceVersion it sets must be the current one. */
  static void checkPreconditions(Exchange ex, ObjectNode current, ObjectNode patched) {
    String rv = Json.text(patched, "metadata", "resourceVersion");
    String currentRv = Json.text(current, "metadata", "resourceVersion");
    if (rv != null && !rv.equals(currentRv)) {
      throw ApiException.conflict(
          ex.type().group(), ex.type().plural(), ex.name(), ApiException.MODIFIED);
    }
    String name = Json.text(patched, "metadata", "name");
    if (name != null && !name.equals(ex.name())) {
      throw ApiException.badRequest(
          "the name of the object ("
              + name
              + ") does not match the name on the URL ("
              + ex.name()
              + ")");
    }
  }
}

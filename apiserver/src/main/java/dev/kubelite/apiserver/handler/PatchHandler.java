package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.patch.JsonPatch;
import dev.kubelite.apiserver.patch.MergePatch;
import dev.kubelite.apiserver.patch.PatchException;
import dev.kubelite.apiserver.patch.StrategicMergePatch;
import dev.kubelite.apiserver.registry.Registry;
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
      case "application/apply-patch+yaml" ->
          throw ApiException.unsupportedMediaType(
              "server-side apply (application/apply-patch+yaml) is not served by kubelite yet; use"
                  + " client-side kubectl apply (without --server-side)");
      default ->
          throw ApiException.unsupportedMediaType(
              "the body of the request was in an unknown format - accepted media types include:"
                  + " application/json-patch+json, application/merge-patch+json,"
                  + " application/strategic-merge-patch+json");
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

  public void patch(Exchange ex) {
    Registry registry = DryRun.pick(ex, this.registry);
    FieldValidation.Mode mode = FieldValidation.mode(ex);
    UnaryOperator<ObjectNode> patcher = patcher(ex, ex.type().kind());
    FieldValidation.checkPatchBody(ex, mode);
    ex.complete(
        registry.guaranteedUpdate(
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
            false),
        updated -> ex.reply(200, Render.object(ex, updated)));
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

package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.FieldSchema;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.registry.ResourceType;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code fieldValidation=Strict|Warn|Ignore} as Kubernetes applies it to create, update and patch
 * bodies: unknown fields (by {@link FieldSchema}) and duplicate fields fail the request with 400
 * ({@code Strict}), become {@code Warning} headers ({@code Warn}, the default when the parameter is
 * absent), or pass silently ({@code Ignore}); in the last two cases unknown fields are dropped, as
 * decoding into Kubernetes' typed objects drops them.
 */
final class FieldValidation {
  enum Mode {
    STRICT,
    WARN,
    IGNORE
  }

  private FieldValidation() {}

  static Mode mode(Exchange ex) {
    String v = ex.query("fieldValidation");
    if (v == null || v.isEmpty()) {
      return Mode.WARN;
    }
    return switch (v) {
      case "Strict" -> Mode.STRICT;
      case "Warn" -> Mode.WARN;
      case "Ignore" -> Mode.IGNORE;
      default ->
          throw ApiException.badRequest(
              "fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got \""
                  + v
                  + "\"");
    };
  }

  private static boolean isJson(Exchange ex) {
    String ct = ex.contentType();
    return ct.isEmpty() || ct.endsWith("json");
  }

  /** Checks a create or update body (already decoded into {@code obj}). */
  static void checkBody(Exchange ex, Mode mode, ObjectNode obj) {
    if (mode == Mode.IGNORE) {
      prune(ex.type(), obj);
      return;
    }
    byte[] body = isJson(ex) ? ex.body() : null;
    // Before unknown fields are pruned: the tree then still holds every field the body named once.
    boolean duplicates = body != null && FieldSchema.hasDuplicateFields(body, obj);
    List<String> problems = new ArrayList<>(unknown(ex.type(), obj, mode != Mode.STRICT));
    if (duplicates) {
      problems.addAll(FieldSchema.duplicateFields(body));
    }
    ResourceType t = ex.type();
    report(
        ex,
        mode,
        problems,
        t.kind() + " in version \"" + t.version() + "\" cannot be handled as a " + t.kind() + ": ");
  }

  /** Checks the duplicate fields of a patch body (before it is applied). */
  static void checkPatchBody(Exchange ex, Mode mode) {
    if (mode == Mode.IGNORE
        || !isJson(ex)
        || ex.contentType().equals("application/json-patch+json")) {
      return;
    }
    report(ex, mode, FieldSchema.duplicateFields(ex.body()), "");
  }

  /** Checks the object a patch produced. */
  static void checkPatched(Exchange ex, Mode mode, ObjectNode patched) {
    if (mode == Mode.IGNORE) {
      prune(ex.type(), patched);
      return;
    }
    report(ex, mode, unknown(ex.type(), patched, mode != Mode.STRICT), "");
  }

  private static List<String> unknown(ResourceType t, ObjectNode obj, boolean prune) {
    return FieldSchema.builtIn().unknownFields(t.apiVersion(), t.kind(), obj, prune);
  }

  private static void prune(ResourceType t, ObjectNode obj) {
    unknown(t, obj, true);
  }

  private static void report(Exchange ex, Mode mode, List<String> problems, String prefix) {
    if (problems.isEmpty()) {
      return;
    }
    if (mode == Mode.STRICT) {
      throw ApiException.badRequest(
          prefix + "strict decoding error: " + String.join(", ", problems));
    }
    problems.forEach(ex::warn);
  }
}

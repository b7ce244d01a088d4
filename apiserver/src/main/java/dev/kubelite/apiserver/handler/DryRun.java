package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.registry.Registry;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dryRun=All} (query, or {@code dryRun: ["All"]} in a DeleteOptions body): the request runs
 * on {@link Registry#dryRun()}, which does everything but write. Other values are refused, as
 * kube-apiserver refuses them.
 */
final class DryRun {
  private DryRun() {}

  /** The registry this request runs on. */
  static Registry pick(Exchange ex, Registry registry) {
    return check(ex.routing().queryParam("dryRun")) ? registry.dryRun() : registry;
  }

  /**
   * For DELETE: the query or the DeleteOptions body ({@code o}, as {@link
   * ResourceHandlers#deleteOptionsBody} read it; null without one) may ask for a dry run.
   */
  static Registry pickForDelete(Exchange ex, ObjectNode o, Registry registry) {
    boolean dry = check(ex.routing().queryParam("dryRun"));
    if (o != null) {
      JsonNode d = o.get("dryRun");
      if (d != null && !d.isNull()) {
        if (!d.isArray()) {
          throw ApiException.badRequest("dryRun in DeleteOptions must be a list of strings");
        }
        List<String> values = new ArrayList<>();
        d.forEach(v -> values.add(v.asText()));
        dry |= check(values);
      }
    }
    return dry ? registry.dryRun() : registry;
  }

  private static boolean check(List<String> values) {
    boolean dry = false;
    for (String v : values) {
      if (v.isEmpty()) {
        continue;
      }
      if (!v.equals("All")) {
        throw ApiException.badRequest(
            "dryRun: Unsupported value: \"" + v + "\": supported values: \"All\"");
      }
      dry = true;
    }
    return dry;
  }
}

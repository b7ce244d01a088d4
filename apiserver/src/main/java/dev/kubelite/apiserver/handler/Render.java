package dev.kubelite.apiserver.handler;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.RawJson;
import dev.kubelite.apiserver.api.Tables;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.http.Negotiation.Output;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.storage.CachedObject;
import java.time.Instant;
import java.util.List;

/** Objects and lists in the representation the client negotiated (object, Table, metadata). */
final class Render {
  private Render() {}

  static Tables.Include include(Exchange ex) {
    String v = ex.query("includeObject");
    if (v == null || v.isEmpty() || v.equals("Metadata")) {
      return Tables.Include.METADATA;
    }
    return switch (v) {
      case "Object" -> Tables.Include.OBJECT;
      case "None" -> Tables.Include.NONE;
      default ->
          throw ApiException.badRequest(
              "includeObject must be one of None, Metadata, Object; got \"" + v + "\"");
    };
  }

  static ObjectNode object(Exchange ex, ObjectNode obj) {
    return switch (ex.output()) {
      case TABLE ->
          Tables.table(
              ex.type().kind(),
              List.of(obj),
              Json.text(obj, "metadata", "resourceVersion"),
              null,
              include(ex),
              Instant.now(),
              true);
      case PARTIAL_METADATA -> Tables.partialMetadata(obj);
      default -> obj;
    };
  }

  /**
   * Answers with a written object in the negotiated representation; in JSON with the JSON the write
   * stored (plus its resourceVersion) rather than serialising the object again.
   */
  static void reply(Exchange ex, int code, Registry.Saved saved) {
    if (ex.output() == Output.JSON) {
      ex.replyJson(code, saved.object(), saved.json());
    } else {
      ex.reply(code, object(ex, saved.object()));
    }
  }

  static ObjectNode list(Exchange ex, List<ObjectNode> items, long revision, String continueToken) {
    return list(ex, items, null, revision, continueToken);
  }

  /**
   * A list; items that come from the watch cache ({@code cached}, or null; then {@code storeItems}
   * is null) are written in JSON as the JSON the cache keeps for them, not parsed and serialised
   * again, and parsed for the other outputs.
   */
  static ObjectNode list(
      Exchange ex,
      List<ObjectNode> storeItems,
      List<CachedObject> cached,
      long revision,
      String continueToken) {
    String rv = Long.toString(revision);
    List<ObjectNode> items =
        storeItems != null || ex.output() == Output.JSON
            ? storeItems
            : cached.stream().map(CachedObject::object).toList();
    switch (ex.output()) {
      case TABLE:
        return Tables.table(
            ex.type().kind(), items, rv, continueToken, include(ex), Instant.now(), true);
      case PARTIAL_METADATA:
        {
          ObjectNode l = Json.object();
          l.put("kind", "PartialObjectMetadataList");
          l.put("apiVersion", "meta.k8s.io/v1");
          ObjectNode m = l.putObject("metadata");
          m.put("resourceVersion", rv);
          if (continueToken != null) {
            m.put("continue", continueToken);
          }
          ArrayNode a = l.putArray("items");
          items.forEach(o -> a.add(Tables.partialMetadata(o)));
          return l;
        }
      default:
        {
          ObjectNode l = Json.object();
          l.put("kind", ex.type().kind() + "List");
          l.put("apiVersion", ex.type().apiVersion());
          ObjectNode m = l.putObject("metadata");
          m.put("resourceVersion", rv);
          if (continueToken != null) {
            m.put("continue", continueToken);
          }
          ArrayNode a = l.putArray("items");
          if (items == null) {
            cached.forEach(e -> a.addRawValue(new RawValue(new RawJson(e.json()))));
          } else {
            items.forEach(a::add);
          }
          return l;
        }
    }
  }
}

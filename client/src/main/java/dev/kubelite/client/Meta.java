package dev.kubelite.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small typed accessors for an object's metadata; objects stay generic JSON trees. */
public final class Meta {
  private Meta() {}

  public static String name(JsonNode o) {
    return text(o.path("metadata").path("name"));
  }

  public static String namespace(JsonNode o) {
    return text(o.path("metadata").path("namespace"));
  }

  public static String resourceVersion(JsonNode o) {
    return text(o.path("metadata").path("resourceVersion"));
  }

  public static String uid(JsonNode o) {
    return text(o.path("metadata").path("uid"));
  }

  public static long generation(JsonNode o) {
    return o.path("metadata").path("generation").asLong(0);
  }

  public static boolean isBeingDeleted(JsonNode o) {
    return o.path("metadata").hasNonNull("deletionTimestamp");
  }

  public static Map<String, String> labels(JsonNode o) {
    return strings(o.path("metadata").path("labels"));
  }

  public static Map<String, String> annotations(JsonNode o) {
    return strings(o.path("metadata").path("annotations"));
  }

  /** {@code namespace/name}, or {@code name} for cluster-scoped objects (client-go's key). */
  public static String key(JsonNode o) {
    String ns = namespace(o);
    return ns == null || ns.isEmpty() ? name(o) : ns + "/" + name(o);
  }

  /** The metadata node, created if missing. */
  public static ObjectNode metadata(ObjectNode o) {
    JsonNode m = o.get("metadata");
    return m instanceof ObjectNode on ? on : o.putObject("metadata");
  }

  private static String text(JsonNode n) {
    return n.isMissingNode() || n.isNull() ? null : n.asText();
  }

  private static Map<String, String> strings(JsonNode n) {
    Map<String, String> m = new LinkedHashMap<>();
    n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
    return m;
  }
}

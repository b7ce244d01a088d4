package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.FieldSelector;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.LabelSelector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An object as the watch cache keeps it (decision 0104): its JSON as a read answers it (the stored
 * JSON with {@code metadata.resourceVersion}), its mod revision, and what selectors read — its
 * labels and the values of the fields a field selector may name for its kind. No parsed tree: a
 * Jackson tree of a pod is several times its JSON, and the cache holds every object of every type.
 * {@link #object} parses a fresh tree when one is needed (table output, an update's first try).
 * Immutable, shared between threads.
 */
public final class CachedObject {
  private final byte[] json;
  private final long modRevision;
  private final Map<String, String> labels;

  /** The fields selectors may name for the object's kind ({@link FieldSelector#selectable}). */
  private final List<String> fieldNames;

  /** Their values, in the same order, as {@link FieldSelector#value} reads them. */
  private final String[] fieldValues;

  private CachedObject(
      byte[] json,
      long modRevision,
      Map<String, String> labels,
      List<String> fieldNames,
      String[] fieldValues) {
    this.json = json;
    this.modRevision = modRevision;
    this.labels = labels;
    this.fieldNames = fieldNames;
    this.fieldValues = fieldValues;
  }

  /**
   * The compact form of {@code object} (the whole object, or its {@link #skeleton}), whose JSON (as
   * a read answers it: exactly what {@link Json#bytes} writes for the object, or the stored JSON
   * with the resourceVersion spliced in, see {@link Json#withResourceVersion}) is {@code json}.
   * Selectors' values are read from {@code object}, which is not kept.
   */
  public static CachedObject of(ObjectNode object, long modRevision, byte[] json) {
    JsonNode meta = object.path("metadata");
    Map<String, String> labels = LabelSelector.labelsOf(meta.path("labels"));
    Map<String, String> compactLabels;
    if (labels.isEmpty()) {
      compactLabels = Map.of();
    } else {
      // Label keys and values repeat across objects (app=web): one shared copy each, in an
      // immutable map (an array of keys and values, no entry objects).
      Map<String, String> shared = new HashMap<>();
      labels.forEach((k, v) -> shared.put(k.intern(), v.intern()));
      compactLabels = Map.copyOf(shared);
    }
    JsonNode kind = object.get("kind");
    List<String> names =
        FieldSelector.selectable(kind != null && kind.isTextual() ? kind.asText() : "");
    String[] values = new String[names.size()];
    for (int i = 0; i < values.length; i++) {
      String name = names.get(i);
      String v = FieldSelector.value(object, name);
      // Names are mostly unique; namespaces, node names and phases repeat.
      values[i] = name.equals("metadata.name") ? v : v.intern();
    }
    return new CachedObject(json, modRevision, compactLabels, names, values);
  }

  /** The same labels and fields with another JSON and revision (a deleted object's last state). */
  CachedObject withJson(byte[] otherJson, long otherRevision) {
    return new CachedObject(otherJson, otherRevision, labels, fieldNames, fieldValues);
  }

  /**
   * The JSON paths a skeleton keeps: a tree of field names, {@link #LEAF} where the whole value is
   * copied. {@code kind}, metadata's name, namespace, labels and resourceVersion, and every path a
   * field selector of any kind reads.
   */
  private static final Object LEAF = new Object();

  /** Reads one value where the parser is, as {@link Json#MAPPER} parses it (the rest follows). */
  private static final ObjectReader VALUE =
      Json.MAPPER.readerFor(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final Map<String, Object> PATHS = paths();

  private static Map<String, Object> paths() {
    Map<String, Object> root = new HashMap<>();
    List<String> all = new ArrayList<>(FieldSelector.readPaths());
    all.addAll(List.of("kind", "metadata.labels", "metadata.resourceVersion"));
    for (String path : all) {
      Map<String, Object> node = root;
      String[] parts = path.split("\\.");
      for (int i = 0; i < parts.length - 1; i++) {
        @SuppressWarnings("unchecked")
        Map<String, Object> next =
            (Map<String, Object>)
                node.computeIfAbsent(parts[i], k -> new HashMap<String, Object>());
        node = next;
      }
      node.put(parts[parts.length - 1], LEAF);
    }
    return freeze(root);
  }

  private static Map<String, Object> freeze(Map<String, Object> m) {
    Map<String, Object> out = new HashMap<>();
    m.forEach(
        (k, v) -> {
          @SuppressWarnings("unchecked")
          Object frozen = v == LEAF ? LEAF : freeze((Map<String, Object>) v);
          out.put(k, frozen);
        });
    return Map.copyOf(out);
  }

  /**
   * A skeleton of the JSON object {@code json}: only the values at the paths {@link #of} reads
   * (kind, metadata's name, namespace, labels and resourceVersion, and every selectable field),
   * each exactly as parsing the whole object gives it, the rest skipped without building nodes.
   * Null if {@code json} is not one valid JSON object (the caller parses it in full for its error).
   */
  public static ObjectNode skeleton(byte[] json) {
    try (JsonParser p = Json.MAPPER.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      ObjectNode root = Json.object();
      copy(p, root, PATHS);
      return p.nextToken() == null ? root : null; // trailing tokens: refused as a parse refuses
    } catch (IOException e) {
      return null;
    }
  }

  /** Copies the kept paths of the object {@code p} is at (its START_OBJECT) into {@code into}. */
  private static void copy(JsonParser p, ObjectNode into, Map<String, Object> paths)
      throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      Object sub = paths.get(name);
      if (sub == null) {
        p.skipChildren();
      } else if (sub != LEAF && t == JsonToken.START_OBJECT) {
        @SuppressWarnings("unchecked")
        Map<String, Object> subPaths = (Map<String, Object>) sub;
        copy(p, into.putObject(name), subPaths); // a repeated name: the last wins, as in a parse
      } else if (t == JsonToken.VALUE_NULL) {
        into.putNull(name);
      } else {
        into.set(name, VALUE.readValue(p, JsonNode.class));
      }
    }
  }

  /** The JSON a read answers with (resourceVersion included). Shared: read-only. */
  public byte[] json() {
    return json;
  }

  public long modRevision() {
    return modRevision;
  }

  /** The labels as selectors see them (immutable). */
  public Map<String, String> labels() {
    return labels;
  }

  /**
   * The value a field selector compares for {@code field}, as {@link FieldSelector#value} reads it
   * from the object; a field not kept for the object's kind is read from a parse of its JSON.
   */
  public String field(String field) {
    int i = fieldNames.indexOf(field);
    return i >= 0 ? fieldValues[i] : FieldSelector.value(object(), field);
  }

  /** The object as a tree of the caller's own (parsed from {@link #json} on each call). */
  public ObjectNode object() {
    try {
      return (ObjectNode) Json.MAPPER.readTree(json);
    } catch (IOException | ClassCastException e) {
      throw new IllegalStateException(
          "the watch cache's JSON of an object does not parse back (a bug): " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "CachedObject[@" + modRevision + ", " + json.length + " bytes]";
  }
}

package dev.kubelite.apiserver.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.FieldSelector;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.LabelSelector;
import java.io.IOException;
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
   * The compact form of {@code object}, whose JSON (as a read answers it: exactly what {@link
   * Json#bytes} writes for the object, or the stored JSON with the resourceVersion spliced in, see
   * {@link Json#withResourceVersion}) is {@code json}. Selectors' values are read from {@code
   * object}, which is not kept.
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

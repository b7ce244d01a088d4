package dev.kubelite.kubectl.patch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The {@code kubectl.kubernetes.io/last-applied-configuration} annotation: what {@code apply}
 * stored last time, so that the next apply knows which fields it owns. Written as kubectl writes it
 * (the applied object without this annotation, as compact JSON with sorted keys and a trailing
 * newline; {@code annotations: {}} when it has no other), so kubectl and kubectl-lite can take
 * turns applying the same object.
 */
public final class LastApplied {
  public static final String ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

  private static final ObjectMapper JSON = new ObjectMapper();

  private LastApplied() {}

  /** {@code obj} with the annotation set to {@code obj} itself (without the annotation). */
  public static ObjectNode annotate(ObjectNode obj) {
    ObjectNode copy = obj.deepCopy();
    ObjectNode meta = copy.get("metadata") instanceof ObjectNode m ? m : copy.putObject("metadata");
    ObjectNode annotations =
        meta.get("annotations") instanceof ObjectNode a ? a : meta.putObject("annotations");
    annotations.remove(ANNOTATION);
    String applied;
    try {
      applied = JSON.writeValueAsString(sorted(copy)) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot serialize the applied configuration", e);
    }
    annotations.put(ANNOTATION, applied);
    return copy;
  }

  /** What the last apply stored on {@code current}, or null if it has none (or it is garbled). */
  public static ObjectNode of(JsonNode current) {
    JsonNode a = current.path("metadata").path("annotations").path(ANNOTATION);
    if (!a.isTextual() || a.asText().isBlank()) {
      return null;
    }
    try {
      return JSON.readTree(a.asText()) instanceof ObjectNode o ? o : null;
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  /** Whether {@code current} carries the annotation. */
  public static boolean present(JsonNode current) {
    return current.path("metadata").path("annotations").has(ANNOTATION);
  }

  private static JsonNode sorted(JsonNode n) {
    if (n instanceof ObjectNode o) {
      List<String> names = new ArrayList<>();
      o.fieldNames().forEachRemaining(names::add);
      Collections.sort(names);
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      for (String name : names) {
        out.set(name, sorted(o.get(name)));
      }
      return out;
    }
    if (n instanceof ArrayNode a) {
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      a.forEach(e -> out.add(sorted(e)));
      return out;
    }
    return n;
  }
}

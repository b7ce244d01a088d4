package dev.kubelite.controller;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** JSON tree helpers for controllers. */
public final class Json {
  private Json() {}

  /**
   * A copy without null values, empty objects and empty lists, at any depth (Kubernetes' semantic
   * equality treats nil and empty alike, and Go clients write {@code creationTimestamp: null}).
   * Returns null if nothing is left.
   */
  public static JsonNode pruned(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return null;
    }
    if (n.isObject()) {
      ObjectNode out = KubeClient.JSON.createObjectNode();
      n.fields()
          .forEachRemaining(
              e -> {
                JsonNode v = pruned(e.getValue());
                if (v != null) {
                  out.set(e.getKey(), v);
                }
              });
      return out.isEmpty() ? null : out;
    }
    if (n.isArray()) {
      ArrayNode out = KubeClient.JSON.createArrayNode();
      for (JsonNode e : n) {
        JsonNode v = pruned(e);
        if (v != null) {
          out.add(v);
        }
      }
      return out.isEmpty() ? null : out;
    }
    return n;
  }

  /** Canonical text: object keys sorted at every level. */
  public static String canonical(JsonNode n) {
    StringBuilder sb = new StringBuilder();
    canonical(n, sb);
    return sb.toString();
  }

  private static void canonical(JsonNode n, StringBuilder sb) {
    if (n == null) {
      sb.append("null");
    } else if (n.isObject()) {
      List<String> keys = new ArrayList<>();
      n.fieldNames().forEachRemaining(keys::add);
      Collections.sort(keys);
      sb.append('{');
      for (int i = 0; i < keys.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        sb.append(KubeClient.JSON.getNodeFactory().textNode(keys.get(i)).toString()).append(':');
        canonical(n.get(keys.get(i)), sb);
      }
      sb.append('}');
    } else if (n.isArray()) {
      sb.append('[');
      for (int i = 0; i < n.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        canonical(n.get(i), sb);
      }
      sb.append(']');
    } else {
      sb.append(n.toString());
    }
  }

  /**
   * Equality of two trees as the API server would store them: numbers compared by value whatever
   * node type built them (a long put by code vs. an int parsed from JSON).
   */
  public static boolean same(JsonNode a, JsonNode b) {
    return reparse(a).equals(reparse(b));
  }

  private static JsonNode reparse(JsonNode n) {
    if (n == null || n.isMissingNode()) {
      return KubeClient.JSON.getNodeFactory().nullNode();
    }
    try {
      return KubeClient.JSON.readTree(KubeClient.JSON.writeValueAsString(n));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot re-read a JSON tree", e);
    }
  }
}

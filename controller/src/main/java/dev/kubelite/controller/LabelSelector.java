package dev.kubelite.controller;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code metav1.LabelSelector} ({@code matchLabels} and {@code matchExpressions} with {@code In},
 * {@code NotIn}, {@code Exists}, {@code DoesNotExist}), as workload controllers evaluate it against
 * pod labels. An empty selector matches nothing here, as Kubernetes' controllers treat it (they
 * refuse to act on everything in a namespace).
 */
public final class LabelSelector {
  private record Requirement(String key, String op, Set<String> values) {
    boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (op) {
        case "In" -> v != null && values.contains(v);
        case "NotIn" -> v == null || !values.contains(v);
        case "Exists" -> v != null;
        case "DoesNotExist" -> v == null;
        default -> false;
      };
    }
  }

  private final List<Requirement> requirements;
  private final String text;

  private LabelSelector(List<Requirement> requirements, String text) {
    this.requirements = requirements;
    this.text = text;
  }

  /**
   * Parses a selector; throws {@link IllegalArgumentException} naming the problem when it is not a
   * valid selector.
   */
  public static LabelSelector parse(JsonNode selector) {
    List<Requirement> reqs = new ArrayList<>();
    List<String> parts = new ArrayList<>();
    if (selector == null || !selector.isObject()) {
      throw new IllegalArgumentException("selector is missing or not an object");
    }
    JsonNode ml = selector.path("matchLabels");
    if (!ml.isMissingNode() && !ml.isNull()) {
      if (!ml.isObject()) {
        throw new IllegalArgumentException("selector.matchLabels is not an object");
      }
      ml.fields()
          .forEachRemaining(
              e -> {
                reqs.add(new Requirement(e.getKey(), "In", Set.of(e.getValue().asText())));
                parts.add(e.getKey() + "=" + e.getValue().asText());
              });
    }
    JsonNode me = selector.path("matchExpressions");
    if (!me.isMissingNode() && !me.isNull()) {
      if (!me.isArray()) {
        throw new IllegalArgumentException("selector.matchExpressions is not a list");
      }
      for (JsonNode e : me) {
        String key = e.path("key").asText("");
        String op = e.path("operator").asText("");
        Set<String> values = new HashSet<>();
        e.path("values").forEach(v -> values.add(v.asText()));
        switch (op) {
          case "In", "NotIn" -> {
            if (values.isEmpty()) {
              throw new IllegalArgumentException(
                  "selector operator " + op + " on " + key + " needs values");
            }
          }
          case "Exists", "DoesNotExist" -> {
            if (!values.isEmpty()) {
              throw new IllegalArgumentException(
                  "selector operator " + op + " on " + key + " takes no values");
            }
          }
          default ->
              throw new IllegalArgumentException(
                  "selector operator \"" + op + "\" is not In, NotIn, Exists or DoesNotExist");
        }
        if (key.isEmpty()) {
          throw new IllegalArgumentException("selector expression without a key");
        }
        reqs.add(new Requirement(key, op, values));
        parts.add(
            switch (op) {
              case "Exists" -> key;
              case "DoesNotExist" -> "!" + key;
              default ->
                  key
                      + (op.equals("In") ? " in " : " notin ")
                      + "("
                      + String.join(",", values)
                      + ")";
            });
      }
    }
    return new LabelSelector(List.copyOf(reqs), String.join(",", parts));
  }

  /** True if every requirement holds; an empty selector matches nothing. */
  public boolean matches(Map<String, String> labels) {
    if (requirements.isEmpty()) {
      return false;
    }
    for (Requirement r : requirements) {
      if (!r.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  public boolean isEmpty() {
    return requirements.isEmpty();
  }

  /** The selector in the API's query syntax, e.g. {@code app=web,tier in (fe)}. */
  @Override
  public String toString() {
    return text;
  }
}

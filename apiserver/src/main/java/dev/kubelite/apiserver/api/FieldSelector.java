package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A field selector ({@code metadata.name=x,status.phase!=Running}): equality and inequality on the
 * fields Kubernetes supports per kind. An unsupported field is a 400, as in Kubernetes.
 */
public final class FieldSelector {
  record Term(String field, boolean equals, String value) {}

  private final List<Term> terms;

  private FieldSelector(List<Term> terms) {
    this.terms = List.copyOf(terms);
  }

  public static final FieldSelector EVERYTHING = new FieldSelector(List.of());

  /** Extra selectable fields per kind, beyond metadata.name and metadata.namespace. */
  private static final Map<String, List<String>> FIELDS =
      Map.of(
          "Pod",
          List.of(
              "spec.nodeName",
              "spec.restartPolicy",
              "spec.schedulerName",
              "spec.serviceAccountName",
              "spec.hostNetwork",
              "status.phase",
              "status.podIP",
              "status.nominatedNodeName"),
          "Event",
          List.of(
              "involvedObject.kind",
              "involvedObject.namespace",
              "involvedObject.name",
              "involvedObject.uid",
              "involvedObject.apiVersion",
              "involvedObject.resourceVersion",
              "involvedObject.fieldPath",
              "reason",
              "reportingComponent",
              "source",
              "type"),
          "Namespace",
          List.of("status.phase"),
          "Node",
          List.of("spec.unschedulable"),
          "Secret",
          List.of("type"),
          "ReplicaSet",
          List.of("status.replicas"));

  /** {@link #selectable} per kind, built once each. */
  private static final Map<String, List<String>> SELECTABLE = new ConcurrentHashMap<>();

  /**
   * The fields a selector on {@code kind} may name: metadata.name, metadata.namespace and the
   * kind's own (an immutable list, the same instance on every call for a kind).
   */
  public static List<String> selectable(String kind) {
    return SELECTABLE.computeIfAbsent(
        kind,
        k -> {
          List<String> all = new ArrayList<>(List.of("metadata.name", "metadata.namespace"));
          all.addAll(FIELDS.getOrDefault(k, List.of()));
          return List.copyOf(all);
        });
  }

  /**
   * Every JSON path {@link #value} reads for a selectable field of any kind ({@code spec.nodeName};
   * {@code source.component} for {@code source}), metadata.name and metadata.namespace included.
   */
  public static java.util.Set<String> readPaths() {
    java.util.Set<String> out =
        new java.util.TreeSet<>(List.of("metadata.name", "metadata.namespace"));
    for (List<String> fields : FIELDS.values()) {
      for (String f : fields) {
        out.add(f.equals("source") ? "source.component" : f);
      }
    }
    return out;
  }

  public boolean isEmpty() {
    return terms.isEmpty();
  }

  /** The value the selector wants for {@code field} if it pins it with '=', else null. */
  public String exact(String field) {
    for (Term t : terms) {
      if (t.equals && t.field.equals(field)) {
        return t.value;
      }
    }
    return null;
  }

  public static FieldSelector parse(String s, String kind) {
    if (s == null || s.isBlank()) {
      return EVERYTHING;
    }
    List<Term> terms = new ArrayList<>();
    for (String part : splitUnescaped(s, ',')) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int i;
      boolean eq;
      int len;
      if ((i = indexUnescaped(p, "!=")) >= 0) {
        eq = false;
        len = 2;
      } else if ((i = indexUnescaped(p, "==")) >= 0) {
        eq = true;
        len = 2;
      } else if ((i = indexUnescaped(p, "=")) >= 0) {
        eq = true;
        len = 1;
      } else {
        throw ApiException.badRequest(
            "invalid field selector: '" + p + "': no operator (=, ==, !=) found");
      }
      String field = p.substring(0, i).trim();
      String value = unescape(p.substring(i + len));
      List<String> allowed = selectable(kind);
      if (!allowed.contains(field)) {
        throw ApiException.badRequest(
            "field label not supported: " + field + " (" + kind + " supports " + allowed + ")");
      }
      terms.add(new Term(field, eq, value));
    }
    return new FieldSelector(terms);
  }

  public boolean matches(JsonNode obj) {
    return matches(field -> value(obj, field));
  }

  /**
   * Whether an object matches, given the value of each field the selector names as {@link #value}
   * gives it for the object.
   */
  public boolean matches(Function<String, String> fieldValue) {
    for (Term t : terms) {
      boolean same = fieldValue.apply(t.field).equals(t.value);
      if (same != t.equals) {
        return false;
      }
    }
    return true;
  }

  /** The value a selector compares for {@code field} of {@code obj}: "" if it has none. */
  public static String value(JsonNode obj, String field) {
    if (field.equals("source")) {
      return textOrEmpty(obj.path("source").path("component"));
    }
    if (field.equals("spec.unschedulable") || field.equals("spec.hostNetwork")) {
      JsonNode n = obj.path("spec").path(field.substring(5));
      return n.isBoolean() ? Boolean.toString(n.asBoolean()) : "false";
    }
    JsonNode n = obj;
    for (String p : field.split("\\.")) {
      n = n.path(p);
    }
    return textOrEmpty(n);
  }

  private static String textOrEmpty(JsonNode n) {
    return n.isMissingNode() || n.isNull() ? "" : n.asText();
  }

  private static List<String> splitUnescaped(String s, char sep) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        cur.append(c).append(s.charAt(++i));
      } else if (c == sep) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }

  private static int indexUnescaped(String s, String op) {
    for (int i = 0; i + op.length() <= s.length(); i++) {
      if (s.charAt(i) == '\\') {
        i++;
        continue;
      }
      if (s.startsWith(op, i)) {
        return i;
      }
    }
    return -1;
  }

  private static String unescape(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        b.append(s.charAt(++i));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}

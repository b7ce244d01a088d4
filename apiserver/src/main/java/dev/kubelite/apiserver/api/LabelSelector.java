package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A label selector: the {@code labelSelector} query syntax ({@code a=b,c!=d,e in (f,g),!h,i}) or a
 * {@code LabelSelector} object ({@code matchLabels}, {@code matchExpressions}). All requirements
 * must hold.
 */
public final class LabelSelector {
  enum Op {
    EQUALS,
    NOT_EQUALS,
    IN,
    NOT_IN,
    EXISTS,
    DOES_NOT_EXIST,
    GT,
    LT
  }

  record Requirement(String key, Op op, Set<String> values) {
    boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (op) {
        case EQUALS, IN -> v != null && values.contains(v);
        case NOT_EQUALS, NOT_IN -> v == null || !values.contains(v);
        case EXISTS -> v != null;
        case DOES_NOT_EXIST -> v == null;
        case GT, LT -> {
          if (v == null) {
            yield false;
          }
          try {
            long have = Long.parseLong(v);
            long want = Long.parseLong(values.iterator().next());
            yield op == Op.GT ? have > want : have < want;
          } catch (NumberFormatException e) {
            yield false;
          }
        }
      };
    }
  }

  private final List<Requirement> requirements;

  private LabelSelector(List<Requirement> requirements) {
    this.requirements = List.copyOf(requirements);
  }

  public static final LabelSelector EVERYTHING = new LabelSelector(List.of());

  /**
   * An object's labels as selectors see them ({@code metadata.labels}: each value as text; none if
   * {@code labels} is not an object).
   */
  public static Map<String, String> labelsOf(JsonNode labels) {
    Map<String, String> m = new java.util.HashMap<>();
    if (labels != null && labels.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        m.put(e.getKey(), e.getValue().asText());
      }
    }
    return m;
  }

  public boolean isEmpty() {
    return requirements.isEmpty();
  }

  public boolean matches(Map<String, String> labels) {
    for (Requirement r : requirements) {
      if (!r.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  /** Parses the query syntax; 400 BadRequest on a syntax error. */
  public static LabelSelector parse(String s) {
    if (s == null || s.isBlank()) {
      return EVERYTHING;
    }
    List<Requirement> reqs = new ArrayList<>();
    for (String part : splitTopLevel(s)) {
      reqs.add(parseRequirement(part.trim(), s));
    }
    return new LabelSelector(reqs);
  }

  private static List<String> splitTopLevel(String s) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(s.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(s.substring(start));
    return parts;
  }

  private static ApiException bad(String selector, String why) {
    return ApiException.badRequest(
        "unable to parse requirement: " + why + " (in label selector \"" + selector + "\")");
  }

  private static Requirement parseRequirement(String p, String whole) {
    if (p.isEmpty()) {
      throw bad(whole, "found '', expected: identifier");
    }
    if (p.startsWith("!")) {
      String key = p.substring(1).trim();
      checkKey(key, whole);
      return new Requirement(key, Op.DOES_NOT_EXIST, Set.of());
    }
    String[] ops = {"!=", "==", "=", ">", "<"};
    for (String op : ops) {
      int i = p.indexOf(op);
      if (i > 0) {
        String key = p.substring(0, i).trim();
        String value = p.substring(i + op.length()).trim();
        checkKey(key, whole);
        checkValue(value, whole);
        Op o =
            switch (op) {
              case "!=" -> Op.NOT_EQUALS;
              case ">" -> Op.GT;
              case "<" -> Op.LT;
              default -> Op.EQUALS;
            };
        if ((o == Op.GT || o == Op.LT) && !value.matches("-?[0-9]+")) {
          throw bad(whole, "for 'Gt', 'Lt' operators, the value must be an integer");
        }
        return new Requirement(key, o, Set.of(value));
      }
      if (i == 0) {
        throw bad(whole, "found '" + op + "', expected: identifier");
      }
    }
    String[] words = p.split("\\s+", 2);
    if (words.length == 1) {
      checkKey(p, whole);
      return new Requirement(p, Op.EXISTS, Set.of());
    }
    String key = words[0];
    String rest = words[1].trim();
    Op op;
    if (rest.startsWith("notin")) {
      op = Op.NOT_IN;
      rest = rest.substring(5).trim();
    } else if (rest.startsWith("in")) {
      op = Op.IN;
      rest = rest.substring(2).trim();
    } else {
      throw bad(whole, "found '" + rest + "', expected: in, notin, =, ==, !=, gt, lt");
    }
    if (!rest.startsWith("(") || !rest.endsWith(")")) {
      throw bad(whole, "found '" + rest + "', expected: '(' values ')'");
    }
    checkKey(key, whole);
    Set<String> values = new TreeSet<>();
    String inner = rest.substring(1, rest.length() - 1);
    for (String v : inner.split(",", -1)) {
      String t = v.trim();
      checkValue(t, whole);
      values.add(t);
    }
    return new Requirement(key, op, values);
  }

  private static void checkKey(String key, String whole) {
    List<String> errs = Validation.checkQualifiedName(key);
    if (!errs.isEmpty()) {
      throw bad(whole, "invalid label key \"" + key + "\": " + String.join("; ", errs));
    }
  }

  private static void checkValue(String value, String whole) {
    List<String> errs = Validation.checkLabelValue(value);
    if (!errs.isEmpty()) {
      throw bad(whole, "invalid label value: \"" + value + "\": " + String.join("; ", errs));
    }
  }

  /** A {@code LabelSelector} object; throws ApiException(400) if malformed. */
  public static LabelSelector fromJson(JsonNode sel) {
    List<Requirement> reqs = new ArrayList<>();
    JsonNode ml = sel.get("matchLabels");
    if (ml != null && !ml.isNull()) {
      if (!ml.isObject()) {
        throw ApiException.badRequest("matchLabels must be a map of strings");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = ml.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        reqs.add(new Requirement(e.getKey(), Op.EQUALS, Set.of(e.getValue().asText())));
      }
    }
    JsonNode me = sel.get("matchExpressions");
    if (me != null && !me.isNull()) {
      if (!me.isArray()) {
        throw ApiException.badRequest("matchExpressions must be a list");
      }
      for (JsonNode e : me) {
        String key = Json.text(e, "key");
        String op = Json.text(e, "operator");
        Set<String> values = new TreeSet<>();
        for (JsonNode v : e.path("values")) {
          values.add(v.asText());
        }
        if (key == null || op == null) {
          throw ApiException.badRequest("matchExpressions entries need key and operator");
        }
        Op o =
            switch (op) {
              case "In" -> Op.IN;
              case "NotIn" -> Op.NOT_IN;
              case "Exists" -> Op.EXISTS;
              case "DoesNotExist" -> Op.DOES_NOT_EXIST;
              default ->
                  throw ApiException.badRequest("\"" + op + "\" is not a valid selector operator");
            };
        if ((o == Op.IN || o == Op.NOT_IN) && values.isEmpty()) {
          throw ApiException.badRequest("values must be non-empty for In and NotIn");
        }
        reqs.add(new Requirement(key, o, values));
      }
    }
    return new LabelSelector(reqs);
  }

  /** The selector in query syntax, as a Scale's {@code status.selector} shows it. */
  public static String toQuery(JsonNode sel) {
    List<String> parts = new ArrayList<>();
    JsonNode ml = sel.path("matchLabels");
    List<String> keys = new ArrayList<>();
    ml.fieldNames().forEachRemaining(keys::add);
    java.util.Collections.sort(keys);
    for (String k : keys) {
      parts.add(k + "=" + ml.get(k).asText());
    }
    for (JsonNode e : sel.path("matchExpressions")) {
      String key = Json.text(e, "key");
      List<String> vals = new ArrayList<>();
      e.path("values").forEach(v -> vals.add(v.asText()));
      switch (String.valueOf(Json.text(e, "operator"))) {
        case "In" -> parts.add(key + " in (" + String.join(",", vals) + ")");
        case "NotIn" -> parts.add(key + " notin (" + String.join(",", vals) + ")");
        case "Exists" -> parts.add(key);
        case "DoesNotExist" -> parts.add("!" + key);
        default -> {}
      }
    }
    return String.join(",", parts);
  }
}

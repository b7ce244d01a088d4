package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The known fields of every kind we serve, read from {@code schema.json} (a hand-maintained
 * description: fields per type, nested types, maps and lists). Finds the unknown fields of an
 * object as Kubernetes' strict decoding names them ({@code spec.template.spec.containers[0].foo})
 * and drops them, and finds duplicate fields in a JSON body.
 */
public final class FieldSchema {
  private static final FieldSchema BUILT_IN = load();

  /** Field name → type expression, per type name. */
  private final Map<String, Map<String, String>> types;

  /** "group/version/Kind" (core: "v1/Kind") → type name. */
  private final Map<String, String> kinds;

  /** Type name → OpenAPI definition package, for types outside {@code io.k8s.api.core.v1}. */
  private final Map<String, String> packages;

  /** Type name → what {@code kubectl explain} prints for it. */
  private final Map<String, String> descriptions;

  private FieldSchema(
      Map<String, Map<String, String>> types,
      Map<String, String> kinds,
      Map<String, String> packages,
      Map<String, String> descriptions) {
    this.types = types;
    this.kinds = kinds;
    this.packages = packages;
    this.descriptions = descriptions;
  }

  public static FieldSchema builtIn() {
    return BUILT_IN;
  }

  private static FieldSchema load() {
    try (InputStream in = FieldSchema.class.getResourceAsStream("schema.json")) {
      if (in == null) {
        throw new IllegalStateException("schema.json is missing from the classpath");
      }
      JsonNode root = Json.MAPPER.readTree(in);
      Map<String, Map<String, String>> types = new HashMap<>();
      root.path("types")
          .fields()
          .forEachRemaining(
              t -> {
                Map<String, String> fields = new LinkedHashMap<>();
                t.getValue()
                    .fields()
                    .forEachRemaining(f -> fields.put(f.getKey(), f.getValue().asText()));
                types.put(t.getKey(), fields);
              });
      FieldSchema s =
          new FieldSchema(
              types,
              strings(root.path("kinds")),
              strings(root.path("packages")),
              strings(root.path("descriptions")));
      s.checkReferences();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schema.json", e);
    }
  }

  private static Map<String, String> strings(JsonNode object) {
    Map<String, String> out = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  /** Every type a field names must exist: a typo in schema.json fails at start, not later. */
  private void checkReferences() {
    for (var t : types.entrySet()) {
      for (var f : t.getValue().entrySet()) {
        String elem = element(f.getValue());
        if (!isScalar(elem) && !types.containsKey(elem)) {
          throw new IllegalStateException(
              "schema.json: " + t.getKey() + "." + f.getKey() + " names unknown type " + elem);
        }
      }
    }
    for (String type : kinds.values()) {
      if (!types.containsKey(type)) {
        throw new IllegalStateException("schema.json: kinds names unknown type " + type);
      }
    }
    for (String type : packages.keySet()) {
      if (!types.containsKey(type)) {
        throw new IllegalStateException("schema.json: packages names unknown type " + type);
      }
    }
    for (String type : descriptions.keySet()) {
      if (!types.containsKey(type)) {
        throw new IllegalStateException("schema.json: descriptions names unknown type " + type);
      }
    }
  }

  private static String element(String type) {
    String t = type;
    while (true) {
      if (t.startsWith("[]")) {
        t = t.substring(2);
      } else if (t.startsWith("map[") && t.endsWith("]")) {
        t = t.substring(4, t.length() - 1);
      } else {
        return t;
      }
    }
  }

  /** The type name of a kind, or null if the schema does not describe it. */
  public String typeOf(String apiVersion, String kind) {
    return kinds.get(apiVersion + "/" + kind);
  }

  /** The fields of a type (field → type expression), or null. */
  public Map<String, String> fields(String type) {
    return types.get(type);
  }

  /**
   * The name Kubernetes' OpenAPI gives a type ({@code io.k8s.api.core.v1.PodSpec}, {@code
   * io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta}).
   */
  public String definitionName(String type) {
    return packages.getOrDefault(type, "io.k8s.api.core.v1") + "." + type;
  }

  /** What {@code kubectl explain} prints for a type, or null. */
  public String description(String type) {
    return descriptions.get(type);
  }

  /** Whether a type expression is a scalar or free-form ({@code string}, {@code object}, ...). */
  public static boolean isScalar(String type) {
    return switch (type) {
      case "string", "integer", "number", "boolean", "any", "object" -> true;
      default -> false;
    };
  }

  public Set<String> typeNames() {
    return types.keySet();
  }

  /**
   * The unknown fields of {@code obj} (a {@code apiVersion}/{@code kind} object), as {@code unknown
   * field "path"}; with {@code prune} they are removed from {@code obj}.
   */
  public List<String> unknownFields(String apiVersion, String kind, ObjectNode obj, boolean prune) {
    String type = typeOf(apiVersion, kind);
    List<String> out = new ArrayList<>();
    if (type != null) {
      walk(type, obj, "", prune, out);
    }
    return out;
  }

  private void walk(String type, JsonNode node, String path, boolean prune, List<String> out) {
    if (node == null || node.isNull()) {
      return;
    }
    if (type.startsWith("[]")) {
      if (node.isArray()) {
        String elem = type.substring(2);
        for (int i = 0; i < node.size(); i++) {
          walk(elem, node.get(i), path + "[" + i + "]", prune, out);
        }
      }
      return;
    }
    if (type.startsWith("map[")) {
      if (node.isObject()) {
        String elem = type.substring(4, type.length() - 1);
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          walk(elem, e.getValue(), join(path, e.getKey()), prune, out);
        }
      }
      return;
    }
    Map<String, String> fields = types.get(type);
    if (fields == null || !(node instanceof ObjectNode o)) {
      return; // a scalar or free-form object; wrong value types are not checked here
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String field = e.getKey();
      String p = join(path, field);
      String ft = fields.get(field);
      if (ft == null) {
        out.add("unknown field \"" + p + "\"");
        if (prune) {
          it.remove();
        }
      } else {
        walk(ft, e.getValue(), p, prune, out);
      }
    }
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  private static final JsonFactory FACTORY = new JsonFactory();

  /**
   * Whether the JSON document {@code json}, parsed into {@code parsed}, names a field twice in one
   * object: it then has more field names than the tree, which keeps one value per name. A cheap
   * scan (no paths, no sets) that spares the common body {@link #duplicateFields}.
   */
  public static boolean hasDuplicateFields(byte[] json, JsonNode parsed) {
    long names = 0;
    try (JsonParser p = FACTORY.createParser(json)) {
      JsonToken tok;
      while ((tok = p.nextToken()) != null) {
        if (tok == JsonToken.FIELD_NAME) {
          names++;
        }
      }
    } catch (IOException e) {
      return false; // not JSON: the body's decoder reports that
    }
    return names != fieldCount(parsed);
  }

  private static long fieldCount(JsonNode n) {
    long count = 0;
    if (n.isObject()) {
      count += n.size();
    }
    if (n.isContainerNode()) {
      for (JsonNode child : n) {
        count += fieldCount(child);
      }
    }
    return count;
  }

  /**
   * The duplicate fields of a JSON document, as {@code duplicate field "path"} (Jackson keeps the
   * last one silently, as Go's decoder does; strict decoding reports them).
   */
  public static List<String> duplicateFields(byte[] json) {
    List<String> out = new ArrayList<>();
    // One frame per open object or array: the path to it, its seen names or its next index.
    record Frame(String path, Set<String> names, int[] index) {}
    Deque<Frame> stack = new ArrayDeque<>();
    String pendingName = null;
    try (JsonParser p = FACTORY.createParser(json)) {
      JsonToken tok;
      while ((tok = p.nextToken()) != null) {
        if (tok == JsonToken.FIELD_NAME) {
          Frame f = stack.peek();
          String name = p.currentName();
          if (f != null && !f.names().add(name)) {
            out.add("duplicate field \"" + join(f.path(), name) + "\"");
          }
          pendingName = name;
          continue;
        }
        if (tok == JsonToken.END_OBJECT || tok == JsonToken.END_ARRAY) {
          stack.pop();
          continue;
        }
        Frame parent = stack.peek();
        String here = "";
        if (parent != null) {
          here =
              parent.names() != null
                  ? join(parent.path(), pendingName == null ? "" : pendingName)
                  : parent.path() + "[" + parent.index()[0]++ + "]";
        }
        if (tok == JsonToken.START_OBJECT) {
          stack.push(new Frame(here, new HashSet<>(), null));
        } else if (tok == JsonToken.START_ARRAY) {
          stack.push(new Frame(here, null, new int[] {0}));
        }
        pendingName = null;
      }
    } catch (IOException e) {
      // Not JSON: the body's decoder reports that.
      return List.of();
    }
    return out;
  }
}

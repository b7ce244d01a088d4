package dev.kubelite.apiserver.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.Json;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strategic merge patch ({@code application/strategic-merge-patch+json}), what client-side {@code
 * kubectl apply}, {@code edit} and {@code set image} send. Maps merge as in a merge patch; lists
 * whose Kubernetes field carries {@code patchStrategy:"merge"} merge element by element on their
 * merge key (containers by name, container ports by containerPort, conditions by type, ...); other
 * lists are replaced. Directives: {@code $patch: replace|merge|delete} on maps and list elements,
 * {@code $setElementOrder/<list>}, {@code $retainKeys}, {@code $deleteFromPrimitiveList/<list>};
 * {@code null} deletes a key.
 */
public final class StrategicMergePatch {
  private StrategicMergePatch() {}

  private static final String PATCH = "$patch";
  private static final String RETAIN_KEYS = "$retainKeys";
  private static final String SET_ORDER = "$setElementOrder/";
  private static final String DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

  /** A list's merge strategy: merge by {@code key}, merge primitives, or replace. */
  public record ListStrategy(boolean merge, String key) {
    public static final ListStrategy REPLACE = new ListStrategy(false, null);
    public static final ListStrategy PRIMITIVES = new ListStrategy(true, null);
  }

  /**
   * The merge strategy of list field {@code field} inside {@code path} of a {@code kind} ({@code
   * path} names list elements with {@code []}: {@code spec.template.spec.containers[]}).
   * Server-side apply uses the same keys for its associative lists.
   */
  public static ListStrategy strategy(String kind, String path, String field) {
    return switch (field) {
      case "containers",
          "initContainers",
          "ephemeralContainers",
          "env",
          "volumes",
          "imagePullSecrets",
          "resourceClaims",
          "secrets" ->
          new ListStrategy(true, "name");
      case "volumeMounts" -> new ListStrategy(true, "mountPath");
      case "volumeDevices" -> new ListStrategy(true, "devicePath");
      case "conditions", "addresses" -> new ListStrategy(true, "type");
      case "hostAliases", "podIPs", "hostIPs" -> new ListStrategy(true, "ip");
      case "ownerReferences" -> new ListStrategy(true, "uid");
      case "topologySpreadConstraints" -> new ListStrategy(true, "topologyKey");
      case "finalizers" -> path.equals("metadata") ? ListStrategy.PRIMITIVES : ListStrategy.REPLACE;
      case "ports" ->
          kind.equals("Service") && path.equals("spec")
              ? new ListStrategy(true, "port")
              : path.endsWith("containers[]") || path.endsWith("initContainers[]")
                  ? new ListStrategy(true, "containerPort")
                  : ListStrategy.REPLACE;
      default -> ListStrategy.REPLACE;
    };
  }

  public static ObjectNode apply(String kind, ObjectNode original, JsonNode patch) {
    if (!patch.isObject()) {
      throw new PatchException("a strategic merge patch must be a JSON object");
    }
    JsonNode r = mergeMap(kind, "", original.deepCopy(), (ObjectNode) patch);
    return r instanceof ObjectNode o ? o : Json.object();
  }

  /** Merges {@code patch} into {@code orig} (modified); null means "delete this map". */
  private static JsonNode mergeMap(String kind, String path, ObjectNode orig, ObjectNode patch) {
    JsonNode directive = patch.get(PATCH);
    if (directive != null) {
      switch (directive.asText()) {
        case "replace":
          return strip(patch);
        case "delete":
          return null;
        case "merge":
          break;
        default:
          throw new PatchException(
              "unknown patch directive \"" + directive.asText() + "\" at " + where(path));
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      JsonNode pv = e.getValue();
      if (key.equals(PATCH) || key.equals(RETAIN_KEYS) || key.startsWith(SET_ORDER)) {
        continue;
      }
      if (key.startsWith(DELETE_PRIMITIVE)) {
        String field = key.substring(DELETE_PRIMITIVE.length());
        if (!pv.isArray()) {
          throw new PatchException(key + " must be a list at " + where(path));
        }
        if (orig.get(field) instanceof ArrayNode list) {
          Set<JsonNode> gone = new HashSet<>();
          pv.forEach(gone::add);
          ArrayNode kept = JsonNodeFactory.instance.arrayNode();
          list.forEach(
              v -> {
                if (!gone.contains(v)) {
                  kept.add(v);
                }
              });
          orig.set(field, kept);
        }
        continue;
      }
      String childPath = path.isEmpty() ? key : path + "." + key;
      if (pv.isNull()) {
        orig.remove(key);
      } else if (pv.isObject()) {
        JsonNode ov = orig.get(key);
        JsonNode merged =
            ov instanceof ObjectNode o
                ? mergeMap(kind, childPath, o, (ObjectNode) pv)
                : mergeMap(kind, childPath, Json.object(), (ObjectNode) pv);
        if (merged == null) {
          orig.remove(key);
        } else {
          orig.set(key, merged);
        }
      } else if (pv.isArray()) {
        orig.set(key, mergeList(kind, path, key, orig.get(key), (ArrayNode) pv));
      } else {
        orig.set(key, pv.deepCopy());
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().startsWith(SET_ORDER)) {
        String field = e.getKey().substring(SET_ORDER.length());
        if (orig.get(field) instanceof ArrayNode list && e.getValue().isArray()) {
          orig.set(field, order(kind, path, field, list, (ArrayNode) e.getValue()));
        }
      }
    }
    JsonNode retain = patch.get(RETAIN_KEYS);
    if (retain != null) {
      if (!retain.isArray()) {
        throw new PatchException("$retainKeys must be a list of field names at " + where(path));
      }
      Set<String> keep = new HashSet<>();
      retain.forEach(k -> keep.add(k.asText()));
      List<String> names = new ArrayList<>();
      orig.fieldNames().forEachRemaining(names::add);
      for (String n : names) {
        if (!keep.contains(n)) {
          orig.remove(n);
        }
      }
    }
    return orig;
  }

  private static JsonNode mergeList(
      String kind, String path, String field, JsonNode origNode, ArrayNode patch) {
    ListStrategy s = strategy(kind, path, field);
    ArrayNode orig =
        origNode instanceof ArrayNode a ? a.deepCopy() : JsonNodeFactory.instance.arrayNode();
    for (JsonNode pe : patch) {
      if (pe.isObject() && "replace".equals(pe.path(PATCH).asText(null))) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (JsonNode x : patch) {
          if (!(x.isObject() && x.has(PATCH))) {
            out.add(x.isObject() ? strip((ObjectNode) x) : x.deepCopy());
          }
        }
        return out;
      }
    }
    if (!s.merge()) {
      ArrayNode out = JsonNodeFactory.instance.arrayNode();
      for (JsonNode x : patch) {
        out.add(x.isObject() ? strip((ObjectNode) x) : x.deepCopy());
      }
      return out;
    }
    String childPath = (path.isEmpty() ? field : path + "." + field) + "[]";
    if (s.key() == null) {
      for (JsonNode pe : patch) {
        boolean present = false;
        for (JsonNode oe : orig) {
          present |= oe.equals(pe);
        }
        if (!present) {
          orig.add(pe.deepCopy());
        }
      }
      return orig;
    }
    for (JsonNode pe : patch) {
      if (!pe.isObject()) {
        throw new PatchException(
            "list "
                + where(childPath)
                + " merges by \""
                + s.key()
                + "\"; its elements must be objects");
      }
      JsonNode keyValue = pe.get(s.key());
      if (keyValue == null || keyValue.isNull()) {
        throw new PatchException(
            "element " + pe + " of " + where(childPath) + " has no merge key \"" + s.key() + "\"");
      }
      int idx = -1;
      for (int i = 0; i < orig.size(); i++) {
        if (sameKey(orig.get(i).get(s.key()), keyValue)) {
          idx = i;
          break;
        }
      }
      String d = pe.path(PATCH).asText(null);
      if ("delete".equals(d)) {
        for (int i = orig.size() - 1; i >= 0; i--) {
          if (sameKey(orig.get(i).get(s.key()), keyValue)) {
            orig.remove(i);
          }
        }
        continue;
      }
      if (idx >= 0 && orig.get(idx) instanceof ObjectNode oe) {
        JsonNode merged = mergeMap(kind, childPath, oe, (ObjectNode) pe);
        if (merged == null) {
          orig.remove(idx);
        } else {
          orig.set(idx, merged);
        }
      } else {
        JsonNode added = mergeMap(kind, childPath, Json.object(), (ObjectNode) pe);
        if (added != null) {
          orig.add(added);
        }
      }
    }
    return orig;
  }

  /** Ports are merged by number; "80" and 80 name the same port. */
  private static boolean sameKey(JsonNode a, JsonNode b) {
    if (a == null || b == null) {
      return false;
    }
    return a.equals(b) || a.asText().equals(b.asText());
  }

  /**
   * {@code $setElementOrder}: the listed elements in the listed order; elements the list does not
   * name (present only on the server) keep their place after them.
   */
  private static ArrayNode order(
      String kind, String path, String field, ArrayNode list, ArrayNode order) {
    ListStrategy s = strategy(kind, path, field);
    List<JsonNode> ordered = new ArrayList<>();
    List<JsonNode> rest = new ArrayList<>();
    List<JsonNode> remaining = new ArrayList<>();
    list.forEach(remaining::add);
    for (JsonNode o : order) {
      for (Iterator<JsonNode> it = remaining.iterator(); it.hasNext(); ) {
        JsonNode e = it.next();
        boolean match = s.key() == null ? e.equals(o) : sameKey(e.get(s.key()), o.get(s.key()));
        if (match) {
          ordered.add(e);
          it.remove();
        }
      }
    }
    rest.addAll(remaining);
    ArrayNode out = JsonNodeFactory.instance.arrayNode();
    ordered.forEach(out::add);
    rest.forEach(out::add);
    return out;
  }

  /** A patch fragment without directives, as stored data. */
  private static ObjectNode strip(ObjectNode patch) {
    ObjectNode out = Json.object();
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String k = e.getKey();
      if (k.startsWith("$")) {
        continue;
      }
      JsonNode v = e.getValue();
      if (v.isNull()) {
        continue;
      }
      if (v instanceof ObjectNode o) {
        out.set(k, strip(o));
      } else if (v instanceof ArrayNode a) {
        ArrayNode arr = JsonNodeFactory.instance.arrayNode();
        for (JsonNode x : a) {
          if (x instanceof ObjectNode xo) {
            if (!"delete".equals(xo.path(PATCH).asText(null))) {
              arr.add(strip(xo));
            }
          } else {
            arr.add(x.deepCopy());
          }
        }
        out.set(k, arr);
      } else {
        out.set(k, v.deepCopy());
      }
    }
    return out;
  }

  private static String where(String path) {
    return path.isEmpty() ? "the top level" : "\"" + path + "\"";
  }
}

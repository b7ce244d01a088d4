package dev.kubelite.apiserver.managed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.patch.StrategicMergePatch;
import dev.kubelite.apiserver.patch.StrategicMergePatch.ListStrategy;
import java.io.IOException;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The structure server-side apply sees in an object: which fields it has, what changed between two
 * versions, where a path's value is, how an applied configuration merges in and how fields are
 * taken out. Lists are associative by the strategic-merge keys (containers by name, ports by
 * containerPort, conditions by type, ...), sets of primitives ({@code metadata.finalizers}) by
 * value, and every other list is atomic; label selectors are atomic too, as in Kubernetes.
 */
final class FieldPaths {
  private FieldPaths() {}

  /** Object metadata the server owns: never part of a field set. */
  static final Set<String> SERVER_METADATA =
      Set.of(
          "name",
          "namespace",
          "uid",
          "resourceVersion",
          "creationTimestamp",
          "generation",
          "managedFields",
          "selfLink",
          "deletionTimestamp",
          "deletionGracePeriodSeconds");

  /** Fields that are maps (granular per key, the map itself a member when added by an update). */
  private static final Set<String> MAPS =
      Set.of(
          "labels",
          "annotations",
          "nodeSelector",
          "data",
          "binaryData",
          "stringData",
          "matchLabels",
          "limits",
          "requests",
          "capacity",
          "allocatable");

  private static boolean skipped(String path, String field) {
    return (path.isEmpty() && (field.equals("apiVersion") || field.equals("kind")))
        || (path.equals("metadata") && SERVER_METADATA.contains(field));
  }

  /** Label selectors are atomic structs in Kubernetes' schema (a Service's selector is a map). */
  static boolean atomic(String kind, String path, String field) {
    return (field.equals("selector") && !kind.equals("Service"))
        || field.equals("labelSelector")
        || field.equals("namespaceSelector");
  }

  private static String childPath(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  /** Whether every element of {@code a} is an object with a value for {@code key}. */
  private static boolean keyed(ArrayNode a, String key) {
    for (JsonNode e : a) {
      if (!(e instanceof ObjectNode) || !e.hasNonNull(key)) {
        return false;
      }
    }
    return true;
  }

  static String keyElement(String key, JsonNode value) {
    return "k:{\"" + key + "\":" + value + "}";
  }

  // ------------------------------------------------------------------------------ field sets

  /**
   * Adds the fields of {@code obj} below {@code node}. {@code update}: the set an update records
   * (maps and list elements are members themselves, "."); otherwise the set an applied
   * configuration declares (only leaves and list elements), where a key given twice is an error.
   */
  static void collect(String kind, String path, ObjectNode obj, FieldSet node, boolean update) {
    for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String f = e.getKey();
      if (e.getValue().isNull() || skipped(path, f)) {
        continue;
      }
      collectValue(kind, path, f, e.getValue(), node.child("f:" + f), update);
    }
  }

  private static void collectValue(
      String kind, String path, String field, JsonNode v, FieldSet node, boolean update) {
    // The path is built only for what has children (most fields are leaves).
    if (v instanceof ObjectNode o && !o.isEmpty() && !atomic(kind, path, field)) {
      if (update && MAPS.contains(field)) {
        node.setMember(true);
      }
      collect(kind, childPath(path, field), o, node, update);
      return;
    }
    if (v instanceof ArrayNode a && !a.isEmpty()) {
      String here = childPath(path, field);
      ListStrategy s = StrategicMergePatch.strategy(kind, path, field);
      if (s.merge() && s.key() == null) {
        for (JsonNode x : a) {
          FieldSet item = node.child("v:" + x);
          if (item.member() && !update) {
            throw duplicate(here, "[=" + x + "]");
          }
          item.setMember(true);
        }
        return;
      }
      if (s.merge() && keyed(a, s.key())) {
        for (JsonNode x : a) {
          FieldSet item = node.child(keyElement(s.key(), x.get(s.key())));
          if (item.member() && !update) {
            throw duplicate(here, "[" + s.key() + "=" + x.get(s.key()) + "]");
          }
          item.setMember(true);
          collect(kind, here + "[]", (ObjectNode) x, item, update);
        }
        return;
      }
    }
    node.setMember(true);
  }

  private static ApiException duplicate(String path, String key) {
    return ApiException.unprocessable("." + path + ": duplicate entries for key " + key);
  }

  /** Marks every node of {@code node} (a removed subtree) a member. */
  private static void markAll(FieldSet node) {
    node.setMember(true);
    node.children().values().forEach(FieldPaths::markAll);
  }

  /**
   * What an update changed: fields added or given a new value go to {@code changed}, fields (and
   * everything below them) that are gone go to {@code removed}.
   */
  static void diff(
      String kind,
      String path,
      ObjectNode old,
      ObjectNode now,
      FieldSet changed,
      FieldSet removed) {
    for (Iterator<Map.Entry<String, JsonNode>> it = now.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String f = e.getKey();
      JsonNode nv = e.getValue();
      if (nv.isNull() || skipped(path, f)) {
        continue;
      }
      JsonNode ov = old.get(f);
      if (ov == null || ov.isNull()) {
        collectValue(kind, path, f, nv, changed.child("f:" + f), true);
      } else if (!ov.equals(nv)) {
        diffValue(kind, path, f, ov, nv, changed, removed);
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = old.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String f = e.getKey();
      if (e.getValue().isNull() || skipped(path, f)) {
        continue;
      }
      JsonNode nv = now.get(f);
      if (nv == null || nv.isNull()) {
        FieldSet r = removed.child("f:" + f);
        collectValue(kind, path, f, e.getValue(), r, true);
        markAll(r);
      }
    }
  }

  private static void diffValue(
      String kind,
      String path,
      String f,
      JsonNode ov,
      JsonNode nv,
      FieldSet changed,
      FieldSet removed) {
    String here = childPath(path, f);
    String el = "f:" + f;
    if (ov instanceof ObjectNode oo && nv instanceof ObjectNode no && !atomic(kind, path, f)) {
      diff(kind, here, oo, no, changed.child(el), removed.child(el));
      return;
    }
    if (ov instanceof ArrayNode oa && nv instanceof ArrayNode na) {
      ListStrategy s = StrategicMergePatch.strategy(kind, path, f);
      if (s.merge() && s.key() == null) {
        Set<JsonNode> before = new HashSet<>();
        oa.forEach(before::add);
        Set<JsonNode> after = new HashSet<>();
        na.forEach(after::add);
        for (JsonNode x : na) {
          if (!before.contains(x)) {
            changed.child(el).child("v:" + x).setMember(true);
          }
        }
        for (JsonNode x : oa) {
          if (!after.contains(x)) {
            removed.child(el).child("v:" + x).setMember(true);
          }
        }
        return;
      }
      if (s.merge() && keyed(oa, s.key()) && keyed(na, s.key())) {
        String key = s.key();
        for (JsonNode x : na) {
          JsonNode match = find(oa, key, x.get(key));
          String item = keyElement(key, x.get(key));
          if (match == null) {
            FieldSet c = changed.child(el).child(item);
            c.setMember(true);
            collect(kind, here + "[]", (ObjectNode) x, c, true);
          } else if (!match.equals(x)) {
            diff(
                kind,
                here + "[]",
                (ObjectNode) match,
                (ObjectNode) x,
                changed.child(el).child(item),
                removed.child(el).child(item));
          }
        }
        for (JsonNode x : oa) {
          if (find(na, key, x.get(key)) == null) {
            FieldSet r = removed.child(el).child(keyElement(key, x.get(key)));
            collect(kind, here + "[]", (ObjectNode) x, r, true);
            markAll(r);
          }
        }
        return;
      }
    }
    FieldSet c = changed.child(el);
    collectValue(kind, path, f, nv, c, true);
    c.setMember(true);
  }

  private static JsonNode find(ArrayNode a, String key, JsonNode value) {
    for (JsonNode x : a) {
      if (x.isObject() && sameKey(x.get(key), value)) {
        return x;
      }
    }
    return null;
  }

  private static int indexOf(ArrayNode a, String element) {
    char type = element.charAt(0);
    JsonNode parsed;
    try {
      parsed = type == 'i' ? null : Json.MAPPER.readTree(element.substring(2));
    } catch (IOException e) {
      return -1;
    }
    for (int i = 0; i < a.size(); i++) {
      JsonNode x = a.get(i);
      boolean match =
          switch (type) {
            case 'k' -> {
              boolean all = x.isObject();
              for (Iterator<Map.Entry<String, JsonNode>> it = parsed.fields();
                  all && it.hasNext(); ) {
                Map.Entry<String, JsonNode> k = it.next();
                all = sameKey(x.get(k.getKey()), k.getValue());
              }
              yield all;
            }
            case 'v' -> same(x, parsed);
            case 'i' -> Integer.toString(i).equals(element.substring(2));
            default -> false;
          };
      if (match) {
        return i;
      }
    }
    return -1;
  }

  /** Ports are keyed by number; "80" and 80 name the same port, as in strategic merge. */
  private static boolean sameKey(JsonNode a, JsonNode b) {
    return a != null && b != null && (a.equals(b) || a.asText().equals(b.asText()));
  }

  /** Equal values; numbers compare by value (3 and 3.0 are the same replicas). */
  static boolean same(JsonNode a, JsonNode b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    return a.equals(b);
  }

  /** The value at {@code path} in {@code root}, or null. */
  static JsonNode valueAt(JsonNode root, List<String> path) {
    JsonNode cur = root;
    for (String e : path) {
      if (cur == null) {
        return null;
      }
      if (e.charAt(0) == 'f') {
        cur = cur.isObject() ? cur.get(e.substring(2)) : null;
        if (cur != null && cur.isNull()) {
          cur = null;
        }
      } else {
        if (!(cur instanceof ArrayNode a)) {
          return null;
        }
        int i = indexOf(a, e);
        cur = i < 0 ? null : a.get(i);
      }
    }
    return cur;
  }

  // ------------------------------------------------------------------------------ apply

  /** Merges an applied configuration into {@code live} (modified). */
  static void merge(String kind, String path, ObjectNode live, ObjectNode config) {
    for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String f = e.getKey();
      JsonNode cv = e.getValue();
      JsonNode lv = live.get(f);
      String here = childPath(path, f);
      if (cv instanceof ObjectNode co
          && lv instanceof ObjectNode lo
          && !co.isEmpty()
          && !atomic(kind, path, f)) {
        merge(kind, here, lo, co);
      } else if (cv instanceof ArrayNode ca && lv instanceof ArrayNode la) {
        ListStrategy s = StrategicMergePatch.strategy(kind, path, f);
        if (s.merge() && s.key() == null) {
          ArrayNode out = la.deepCopy();
          for (JsonNode x : ca) {
            if (indexOf(out, "v:" + x) < 0) {
              out.add(x.deepCopy());
            }
          }
          live.set(f, out);
        } else if (s.merge() && keyed(ca, s.key()) && keyed(la, s.key())) {
          ArrayNode out = la.deepCopy();
          for (JsonNode x : ca) {
            JsonNode match = find(out, s.key(), x.get(s.key()));
            if (match instanceof ObjectNode mo) {
              merge(kind, here + "[]", mo, (ObjectNode) x);
            } else {
              out.add(x.deepCopy());
            }
          }
          live.set(f, out);
        } else {
          live.set(f, ca.deepCopy());
        }
      } else {
        live.set(f, cv.deepCopy());
      }
    }
  }

  /**
   * Takes the members of {@code remove} out of {@code obj}, except where a member of {@code others}
   * lies at or below them (then only the parts below that nobody else owns go). The key field of a
   * list element ({@code keepKey}) stays while the element stays.
   */
  static void remove(
      String kind, String path, ObjectNode obj, FieldSet remove, FieldSet others, String keepKey) {
    for (Map.Entry<String, FieldSet> e : remove.children().entrySet()) {
      String el = e.getKey();
      if (el.charAt(0) != 'f') {
        continue;
      }
      String f = el.substring(2);
      JsonNode v = obj.get(f);
      if (f.equals(keepKey) || v == null) {
        continue;
      }
      FieldSet rm = e.getValue();
      FieldSet oc = others == null ? null : others.get(el);
      if (rm.member() && (oc == null || oc.isEmpty())) {
        obj.remove(f);
        continue;
      }
      if (!rm.hasChildren()) {
        continue;
      }
      String here = childPath(path, f);
      if (v instanceof ObjectNode o) {
        remove(kind, here, o, rm, oc, null);
      } else if (v instanceof ArrayNode a) {
        String key = StrategicMergePatch.strategy(kind, path, f).key();
        for (Map.Entry<String, FieldSet> item : rm.children().entrySet()) {
          int i = indexOf(a, item.getKey());
          if (i < 0) {
            continue;
          }
          FieldSet oi = oc == null ? null : oc.get(item.getKey());
          if (item.getValue().member() && (oi == null || oi.isEmpty())) {
            a.remove(i);
          } else if (a.get(i) instanceof ObjectNode io) {
            remove(kind, here + "[]", io, item.getValue(), oi, key);
          }
        }
      }
    }
  }
}

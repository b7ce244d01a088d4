package dev.kubelite.kubectl.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The patch client-side {@code kubectl apply} sends to update an object: from the configuration
 * applied last time ({@code original}, read back from the last-applied annotation; null when there
 * is none), the configuration applied now ({@code modified}) and the live object ({@code current}):
 *
 * <ul>
 *   <li>what {@code modified} sets differently from {@code current} (or adds) is set;
 *   <li>what {@code original} set and {@code modified} no longer does is deleted ({@code null} for
 *       a map key, {@code $patch: delete} for an element of a list merged by key, {@code
 *       $deleteFromPrimitiveList} for a set of primitives), if {@code current} still has it;
 *   <li>everything else in {@code current} (fields set by other writers, e.g. {@code replicas}
 *       after {@code kubectl scale}, and {@code status}) is left alone.
 * </ul>
 *
 * In {@link Mode#STRATEGIC} lists follow {@link PatchStrategy}; a list merged by key whose order
 * changed also gets {@code $setElementOrder}, a {@code retainKeys} map gets {@code $retainKeys}. In
 * {@link Mode#JSON_MERGE} (RFC 7386, for kinds without strategic merge) every list is replaced.
 */
public final class ThreeWayPatch {
  /** Which patch format to produce. */
  public enum Mode {
    STRATEGIC,
    JSON_MERGE
  }

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final String PATCH = "$patch";

  private final String kind;
  private final Mode mode;

  private ThreeWayPatch(String kind, Mode mode) {
    this.kind = kind;
    this.mode = mode;
  }

  /** The patch; an empty object when {@code current} already matches {@code modified}. */
  public static ObjectNode compute(
      String kind, Mode mode, JsonNode original, ObjectNode modified, ObjectNode current) {
    return new ThreeWayPatch(kind, mode)
        .diffMap("", original instanceof ObjectNode o ? o : null, modified, current);
  }

  private ObjectNode diffMap(String path, ObjectNode orig, ObjectNode mod, ObjectNode cur) {
    ObjectNode patch = F.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = mod.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String k = e.getKey();
      JsonNode mv = e.getValue();
      JsonNode cv = cur.get(k);
      JsonNode ov = orig == null ? null : orig.get(k);
      String childPath = path.isEmpty() ? k : path + "." + k;
      if (cv == null || cv.isNull()) {
        if (!mv.isNull()) {
          patch.set(k, mv.deepCopy());
        }
      } else if (mv.isNull()) {
        patch.putNull(k);
      } else if (mv instanceof ObjectNode mo && cv instanceof ObjectNode co) {
        ObjectNode sub = diffMap(childPath, ov instanceof ObjectNode oo ? oo : null, mo, co);
        if (!sub.isEmpty()) {
          if (mode == Mode.STRATEGIC && PatchStrategy.retainKeys(kind, childPath)) {
            ArrayNode keep = sub.putArray("$retainKeys");
            new TreeSet<>(fieldNames(mo)).forEach(keep::add);
          }
          patch.set(k, sub);
        }
      } else if (mode == Mode.STRATEGIC
          && mv instanceof ArrayNode ma
          && cv instanceof ArrayNode ca) {
        diffList(path, k, ov instanceof ArrayNode oa ? oa : null, ma, ca, patch);
      } else if (!same(mv, cv)) {
        patch.set(k, mv.deepCopy());
      }
    }
    if (orig != null) {
      for (Iterator<String> it = orig.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!mod.has(k) && cur.has(k) && !cur.get(k).isNull()) {
          patch.putNull(k);
        }
      }
    }
    return patch;
  }

  private void diffList(
      String path, String field, ArrayNode orig, ArrayNode mod, ArrayNode cur, ObjectNode patch) {
    PatchStrategy s = PatchStrategy.forList(kind, path, field);
    if (s.kind() == PatchStrategy.Kind.MERGE_BY_KEY
        && !(keyed(mod, s.key()) && keyed(cur, s.key()) && keyed(orig, s.key()))) {
      // Elements without their merge key cannot be merged; the server would refuse them.
      s = PatchStrategy.REPLACE;
    }
    switch (s.kind()) {
      case REPLACE -> {
        if (!same(mod, cur)) {
          patch.set(field, mod.deepCopy());
        }
      }
      case MERGE_PRIMITIVES -> {
        ArrayNode add = F.arrayNode();
        for (JsonNode m : mod) {
          if (!contains(cur, m) && !contains(add, m)) {
            add.add(m.deepCopy());
          }
        }
        ArrayNode delete = F.arrayNode();
        if (orig != null) {
          for (JsonNode o : orig) {
            if (!contains(mod, o) && contains(cur, o) && !contains(delete, o)) {
              delete.add(o.deepCopy());
            }
          }
        }
        if (!add.isEmpty()) {
          patch.set(field, add);
        }
        if (!delete.isEmpty()) {
          patch.set("$deleteFromPrimitiveList/" + field, delete);
        }
      }
      case MERGE_BY_KEY -> diffKeyedList(path, field, s.key(), orig, mod, cur, patch);
    }
  }

  private void diffKeyedList(
      String path,
      String field,
      String key,
      ArrayNode orig,
      ArrayNode mod,
      ArrayNode cur,
      ObjectNode patch) {
    String childPath = (path.isEmpty() ? field : path + "." + field) + "[]";
    ArrayNode entries = F.arrayNode();
    for (JsonNode m : mod) {
      JsonNode kv = m.get(key);
      JsonNode c = find(cur, key, kv);
      if (c == null) {
        entries.add(m.deepCopy());
        continue;
      }
      JsonNode o = find(orig, key, kv);
      ObjectNode sub =
          diffMap(
              childPath, o instanceof ObjectNode oo ? oo : null, (ObjectNode) m, (ObjectNode) c);
      // The elements matched on their key (80 and "80" alike): the key itself is no change.
      sub.remove(key);
      if (!sub.isEmpty()) {
        ObjectNode entry = F.objectNode();
        entry.set(key, kv.deepCopy());
        entry.setAll(sub);
        entries.add(entry);
      }
    }
    if (orig != null) {
      for (JsonNode o : orig) {
        JsonNode kv = o.get(key);
        if (find(mod, key, kv) == null && find(cur, key, kv) != null) {
          ObjectNode gone = F.objectNode();
          gone.set(key, kv.deepCopy());
          gone.put(PATCH, "delete");
          entries.add(gone);
        }
      }
    }
    if (!entries.isEmpty()) {
      patch.set(field, entries);
    }
    if (!entries.isEmpty() || !sameOrder(mod, cur, key)) {
      ArrayNode order = F.arrayNode();
      for (JsonNode m : mod) {
        order.addObject().set(key, m.get(key).deepCopy());
      }
      patch.set("$setElementOrder/" + field, order);
    }
  }

  /** Whether the elements {@code mod} and {@code cur} share appear in the same order in both. */
  private static boolean sameOrder(ArrayNode mod, ArrayNode cur, String key) {
    List<JsonNode> inCur = new ArrayList<>();
    for (JsonNode c : cur) {
      if (find(mod, key, c.get(key)) != null) {
        inCur.add(c.get(key));
      }
    }
    List<JsonNode> inMod = new ArrayList<>();
    for (JsonNode m : mod) {
      if (find(cur, key, m.get(key)) != null) {
        inMod.add(m.get(key));
      }
    }
    if (inCur.size() != inMod.size()) {
      return false;
    }
    for (int i = 0; i < inCur.size(); i++) {
      if (!sameKey(inCur.get(i), inMod.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean keyed(ArrayNode list, String key) {
    if (list == null) {
      return true;
    }
    for (JsonNode e : list) {
      if (!e.isObject() || !e.hasNonNull(key) || !e.get(key).isValueNode()) {
        return false;
      }
    }
    return true;
  }

  private static JsonNode find(ArrayNode list, String key, JsonNode value) {
    if (list == null) {
      return null;
    }
    for (JsonNode e : list) {
      if (sameKey(e.get(key), value)) {
        return e;
      }
    }
    return null;
  }

  /** Merge keys compare as the server compares them: port 80 and "80" are the same port. */
  private static boolean sameKey(JsonNode a, JsonNode b) {
    return a != null && b != null && (a.equals(b) || a.asText().equals(b.asText()));
  }

  private static boolean contains(ArrayNode list, JsonNode v) {
    for (JsonNode e : list) {
      if (same(e, v)) {
        return true;
      }
    }
    return false;
  }

  private static List<String> fieldNames(ObjectNode o) {
    List<String> names = new ArrayList<>();
    o.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /**
   * JSON equality where numbers compare by value (YAML reads {@code 3} as an int, the server may
   * answer a long) and maps ignore key order.
   */
  public static boolean same(JsonNode a, JsonNode b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue()) == 0;
    }
    if (a.isObject() && b.isObject()) {
      if (a.size() != b.size()) {
        return false;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!same(e.getValue(), b.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (a.isArray() && b.isArray()) {
      if (a.size() != b.size()) {
        return false;
      }
      for (int i = 0; i < a.size(); i++) {
        if (!same(a.get(i), b.get(i))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }
}

package dev.kubelite.apiserver.managed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.ApiException.Cause;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.registry.ResourceType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code metadata.managedFields}: which field manager owns which fields of an object, kept on every
 * write as Kubernetes keeps it. Creates, updates and non-apply patches record an {@code Update}
 * entry for their manager with the fields they set or changed (and take those fields from every
 * other manager); server-side apply ({@link #apply}) records an {@code Apply} entry with exactly
 * the fields of the applied configuration, removes fields the manager applied before and no longer
 * does (unless someone else owns them), and refuses to change a field another manager owns to a
 * different value unless forced.
 */
public final class ManagedFields {
  private ManagedFields() {}

  public static final String APPLY = "Apply";
  public static final String UPDATE = "Update";

  /** One {@code managedFields} entry. {@code subresource} is null for the main resource. */
  public record Entry(
      String manager,
      String operation,
      String apiVersion,
      String time,
      String subresource,
      FieldSet fields) {
    boolean sameManager(String m, String op, String sub) {
      return manager.equals(m) && operation.equals(op) && Objects.equals(subresource, sub);
    }

    Entry withFields(FieldSet f) {
      return new Entry(manager, operation, apiVersion, time, subresource, f);
    }

    /** As Kubernetes names a manager in conflicts: "m" [with subresource "s"] [using v]. */
    String describe() {
      StringBuilder b = new StringBuilder("\"").append(manager).append('"');
      if (subresource != null) {
        b.append(" with subresource \"").append(subresource).append('"');
      }
      if (operation.equals(UPDATE)) {
        b.append(" using ").append(apiVersion);
      }
      return b.toString();
    }
  }

  private static final Comparator<Entry> ORDER =
      Comparator.comparing(Entry::operation)
          .thenComparing(e -> e.time() == null ? "" : e.time())
          .thenComparing(Entry::manager)
          .thenComparing(e -> e.subresource() == null ? "" : e.subresource());

  // ------------------------------------------------------------------------------ encoding

  /** Reads the entries; throws IllegalArgumentException naming what is malformed. */
  public static List<Entry> read(JsonNode managedFields) {
    return read(managedFields, true);
  }

  private static List<Entry> read(JsonNode managedFields, boolean checkKeys) {
    List<Entry> out = new ArrayList<>();
    if (managedFields == null || managedFields.isNull()) {
      return out;
    }
    if (!managedFields.isArray()) {
      throw new IllegalArgumentException("metadata.managedFields must be a list");
    }
    for (JsonNode e : managedFields) {
      if (!e.isObject()) {
        throw new IllegalArgumentException("metadata.managedFields entries must be objects");
      }
      String op = Json.text(e, "operation");
      if (!APPLY.equals(op) && !UPDATE.equals(op)) {
        throw new IllegalArgumentException(
            "metadata.managedFields: operation must be \"Apply\" or \"Update\", got " + op);
      }
      String type = Json.text(e, "fieldsType");
      if (type != null && !type.equals("FieldsV1")) {
        throw new IllegalArgumentException(
            "metadata.managedFields: fieldsType must be \"FieldsV1\", got " + type);
      }
      JsonNode v1 = e.get("fieldsV1");
      FieldSet fields =
          v1 == null || v1.isNull() ? new FieldSet() : FieldSet.fromFieldsV1(v1, checkKeys);
      String manager = Json.text(e, "manager");
      String sub = Json.text(e, "subresource");
      out.add(
          new Entry(
              manager == null ? "" : manager,
              op,
              Json.text(e, "apiVersion"),
              Json.text(e, "time"),
              sub == null || sub.isEmpty() ? null : sub,
              fields));
    }
    return out;
  }

  /** The stored entries of {@code obj}; malformed ones (never written by us) count as none. */
  static List<Entry> readStored(ObjectNode obj) {
    if (obj == null) {
      return new ArrayList<>();
    }
    try {
      return read(obj.path("metadata").get("managedFields"), false);
    } catch (IllegalArgumentException e) {
      return new ArrayList<>();
    }
  }

  static ArrayNode write(List<Entry> entries) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    for (Entry e : entries) {
      writeEntry(a, e, e.fields().toFieldsV1());
    }
    return a;
  }

  private static void writeEntry(ArrayNode a, Entry e, JsonNode fieldsV1) {
    ObjectNode o = a.addObject();
    o.put("manager", e.manager());
    o.put("operation", e.operation());
    if (e.apiVersion() != null) {
      o.put("apiVersion", e.apiVersion());
    }
    if (e.time() != null) {
      o.put("time", e.time());
    }
    o.put("fieldsType", "FieldsV1");
    o.set("fieldsV1", fieldsV1);
    if (e.subresource() != null) {
      o.put("subresource", e.subresource());
    }
  }

  private static void store(ObjectNode obj, List<Entry> entries) {
    ObjectNode meta = Json.child(obj, "metadata");
    if (entries.isEmpty()) {
      meta.remove("managedFields");
      return;
    }
    entries.sort(ORDER);
    meta.set("managedFields", write(entries));
  }

  /**
   * The fields a write may own: none of apiVersion, kind and server-set metadata; for a kind with a
   * status subresource, the main resource does not own status and the status subresource owns only
   * status and metadata.
   */
  private static void strip(FieldSet s, ResourceType t, String subresource) {
    if ("status".equals(subresource)) {
      for (String k : List.copyOf(s.children().keySet())) {
        if (!k.equals("f:status") && !k.equals("f:metadata")) {
          s.removeChild(k);
        }
      }
    } else if (t.hasStatus()) {
      s.removeChild("f:status");
    }
    s.prune();
  }

  // ------------------------------------------------------------------------------ updates

  /**
   * Records a create ({@code old} null), update or non-apply patch by {@code manager} in {@code
   * now}'s managedFields. A request that sends managedFields different from the stored ones sets
   * them (as Kubernetes allows); {@code [{}]} clears them; none, an empty list or the stored ones
   * keep the stored entries. Only an actual change of fields touches the manager's entry.
   */
  public static void update(
      ResourceType t,
      ObjectNode old,
      ObjectNode now,
      String manager,
      String subresource,
      String time) {
    update(t, old, now, manager, subresource, time, true);
  }

  /**
   * {@link #update} reading every stored entry into a {@link FieldSet} and writing it again, as it
   * did before stored entries were kept: the reference the tests compare the kept form with.
   */
  static void updateReadingAll(
      ResourceType t,
      ObjectNode old,
      ObjectNode now,
      String manager,
      String subresource,
      String time) {
    update(t, old, now, manager, subresource, time, false);
  }

  private static void update(
      ResourceType t,
      ObjectNode old,
      ObjectNode now,
      String manager,
      String subresource,
      String time,
      boolean keepUnchanged) {
    ObjectNode meta = Json.child(now, "metadata");
    JsonNode requested = meta.get("managedFields");
    JsonNode stored = old == null ? null : old.path("metadata").get("managedFields");
    boolean keepStored =
        old == null
            || requested == null
            || requested.isNull()
            || (requested.isArray() && requested.isEmpty())
            || requested.equals(stored);
    List<Entry> base = null;
    if (!keepStored) {
      if (requested.isArray()
          && requested.size() == 1
          && requested.get(0).isObject()
          && requested.get(0).isEmpty()) {
        meta.remove("managedFields");
        return;
      }
      try {
        base = read(requested);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    }
    FieldSet changed = new FieldSet();
    FieldSet removed = new FieldSet();
    if (old == null) {
      FieldPaths.collect(t.kind(), "", now, changed, true);
    } else {
      FieldPaths.diff(t.kind(), "", old, now, changed, removed);
    }
    strip(changed, t, subresource);
    strip(removed, t, subresource);
    if (changed.isEmpty() && removed.isEmpty()) {
      if (keepStored && stored != null) {
        meta.set("managedFields", stored.deepCopy());
      } else {
        store(now, base != null ? base : readStored(old));
      }
      return;
    }
    if (keepUnchanged
        && keepStored
        && stored != null
        && stored.isArray()
        && updateStored(t, meta, stored, manager, subresource, time, changed, removed)) {
      return;
    }
    if (base == null) {
      base = readStored(old);
    }
    List<Entry> out = new ArrayList<>();
    FieldSet mine = null;
    FieldSet taken = null; // built only if another manager may lose fields (never on a create)
    for (Entry e : base) {
      if (e.sameManager(manager, UPDATE, subresource)) {
        mine = e.fields();
        continue;
      }
      if (taken == null) {
        taken = changed.union(removed);
      }
      FieldSet left = e.fields().difference(taken);
      left.prune();
      if (!left.isEmpty()) {
        out.add(e.withFields(left));
      }
    }
    // `changed` is this call's own tree: a create's entry is it, as it is, without copies.
    mine = mine == null ? changed : mine.union(changed);
    if (!removed.isEmpty()) {
      mine = mine.difference(removed);
    }
    mine.prune();
    if (!mine.isEmpty()) {
      out.add(new Entry(manager, UPDATE, t.apiVersion(), time, subresource, mine));
    }
    store(now, out);
  }

  /**
   * The update of stored entries, touching only the ones the write changes: another manager's entry
   * none of whose fields the write set or removed is kept as stored (its {@code fieldsV1} JSON
   * copied, not read into a {@link FieldSet} and written again), and the writer's own entry keeps
   * its {@code fieldsV1} when it already holds every changed field and none of the removed ones
   * (only its time and apiVersion change). The outcome is the same as reading every entry and
   * writing it again, since stored entries are in the form {@link #write} gives. Returns false,
   * having changed nothing, when an entry is not in that form (then the caller reads them all).
   */
  private static boolean updateStored(
      ResourceType t,
      ObjectNode meta,
      JsonNode stored,
      String manager,
      String subresource,
      String time,
      FieldSet changed,
      FieldSet removed) {
    FieldSet taken = null;
    List<Entry> out = new ArrayList<>();
    Map<Entry, JsonNode> keptAsStored = new IdentityHashMap<>();
    JsonNode mineJson = null;
    for (JsonNode e : stored) {
      if (!written(e)) {
        return false;
      }
      String sub = Json.text(e, "subresource");
      Entry header =
          new Entry(
              Json.text(e, "manager"),
              Json.text(e, "operation"),
              Json.text(e, "apiVersion"),
              Json.text(e, "time"),
              sub,
              null);
      ObjectNode v1 = (ObjectNode) e.get("fieldsV1");
      if (header.sameManager(manager, UPDATE, subresource)) {
        mineJson = v1;
        continue;
      }
      if (taken == null) {
        taken = changed.union(removed);
      }
      if (!intersects(taken, v1)) {
        ObjectNode copy = canonicalCopy(v1, 0);
        if (copy == null) {
          return false;
        }
        out.add(header);
        keptAsStored.put(header, copy);
        continue;
      }
      FieldSet left;
      try {
        left = FieldSet.fromFieldsV1(v1, false).difference(taken);
      } catch (IllegalArgumentException ex) {
        return false;
      }
      left.prune();
      if (!left.isEmpty()) {
        out.add(header.withFields(left));
      }
    }
    Entry mine = new Entry(manager, UPDATE, t.apiVersion(), time, subresource, null);
    ObjectNode mineCopy =
        mineJson != null
                && containsAll((ObjectNode) mineJson, changed)
                && !intersects(removed, (ObjectNode) mineJson)
            ? canonicalCopy((ObjectNode) mineJson, 0)
            : null;
    if (mineCopy != null) {
      out.add(mine);
      keptAsStored.put(mine, mineCopy);
    } else {
      FieldSet fields;
      try {
        fields = mineJson != null ? FieldSet.fromFieldsV1(mineJson, false).union(changed) : changed;
      } catch (IllegalArgumentException ex) {
        return false;
      }
      if (!removed.isEmpty()) {
        fields = fields.difference(removed);
      }
      fields.prune();
      if (!fields.isEmpty()) {
        out.add(mine.withFields(fields));
      }
    }
    if (out.isEmpty()) {
      meta.remove("managedFields");
      return true;
    }
    out.sort(ORDER);
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    for (Entry e : out) {
      JsonNode v1 = keptAsStored.get(e);
      writeEntry(a, e, v1 != null ? v1 : e.fields().toFieldsV1());
    }
    meta.set("managedFields", a);
    return true;
  }

  private static final List<String> ENTRY_KEYS =
      List.of(
          "manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource");

  /**
   * Whether a stored entry is exactly what {@link #writeEntry} writes: its keys in that order,
   * strings where it writes strings, operation Apply or Update, fieldsType FieldsV1, fieldsV1 an
   * object, no empty subresource.
   */
  private static boolean written(JsonNode e) {
    if (!e.isObject()) {
      return false;
    }
    int at = -1;
    for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      int i = ENTRY_KEYS.indexOf(f.getKey());
      if (i <= at || !(f.getKey().equals("fieldsV1") || f.getValue().isTextual())) {
        return false;
      }
      at = i;
    }
    String op = Json.text(e, "operation");
    String sub = Json.text(e, "subresource");
    return e.has("manager")
        && (APPLY.equals(op) || UPDATE.equals(op))
        && "FieldsV1".equals(Json.text(e, "fieldsType"))
        && e.get("fieldsV1") instanceof ObjectNode
        && (sub == null || !sub.isEmpty());
  }

  /**
   * A copy of {@code fieldsV1} if it is exactly what {@link FieldSet#toFieldsV1} writes — keys
   * sorted, each a path element, every value an object, {@code "."} (empty) only beside children —
   * so that keeping it equals reading and writing it again; else null.
   */
  private static ObjectNode canonicalCopy(ObjectNode v1, int depth) {
    if (depth > Json.MAX_DEPTH) {
      return null;
    }
    ObjectNode copy = JsonNodeFactory.instance.objectNode();
    String previous = null;
    for (Iterator<Map.Entry<String, JsonNode>> it = v1.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String k = f.getKey();
      if (!(f.getValue() instanceof ObjectNode value)
          || (previous != null && previous.compareTo(k) >= 0)) {
        return null;
      }
      previous = k;
      if (k.equals(".")) {
        if (!value.isEmpty() || v1.size() < 2) {
          return null;
        }
        copy.putObject(".");
        continue;
      }
      if (k.length() < 2 || k.charAt(1) != ':' || "fkvi".indexOf(k.charAt(0)) < 0) {
        return null;
      }
      ObjectNode c = canonicalCopy(value, depth + 1);
      if (c == null) {
        return null;
      }
      copy.set(k, c);
    }
    return copy;
  }

  /** Whether a member of {@code s} is a member of the {@code fieldsV1} JSON {@code json}. */
  private static boolean intersects(FieldSet s, ObjectNode json) {
    if (s.member() && (json.isEmpty() || json.has("."))) {
      return true;
    }
    for (Map.Entry<String, FieldSet> c : s.children().entrySet()) {
      if (json.get(c.getKey()) instanceof ObjectNode j && intersects(c.getValue(), j)) {
        return true;
      }
    }
    return false;
  }

  /** Whether every member of {@code s} is a member of the {@code fieldsV1} JSON {@code json}. */
  private static boolean containsAll(ObjectNode json, FieldSet s) {
    if (s.member() && !(json.isEmpty() || json.has("."))) {
      return false;
    }
    for (Map.Entry<String, FieldSet> c : s.children().entrySet()) {
      if (json.get(c.getKey()) instanceof ObjectNode j) {
        if (!containsAll(j, c.getValue())) {
          return false;
        }
      } else if (!c.getValue().isEmpty()) {
        return false;
      }
    }
    return true;
  }

  // ------------------------------------------------------------------------------ apply

  /**
   * Server-side apply of {@code config} (an object of type {@code t}, validated by the caller) by
   * {@code manager} to {@code live} (null: the object does not exist yet). Returns the object to
   * write, with its managedFields; throws a 409 Conflict listing the fields other managers own with
   * a different value, unless {@code force} (then the applier takes them over).
   */
  public static ObjectNode apply(
      ResourceType t,
      ObjectNode live,
      ObjectNode config,
      String manager,
      String subresource,
      boolean force,
      String time) {
    FieldSet applied = new FieldSet();
    FieldPaths.collect(t.kind(), "", config, applied, false);
    strip(applied, t, subresource);
    List<Entry> entries = readStored(live);
    Entry previous = null;
    for (Entry e : entries) {
      if (e.sameManager(manager, APPLY, subresource)) {
        previous = e;
      }
    }
    Map<Entry, List<List<String>>> conflicts = new LinkedHashMap<>();
    if (live != null) {
      for (Entry e : entries) {
        if (e == previous) {
          continue;
        }
        applied.forEachSharedLeaf(
            e.fields(),
            (path, node) -> {
              if (!FieldPaths.same(
                  FieldPaths.valueAt(live, path), FieldPaths.valueAt(config, path))) {
                conflicts.computeIfAbsent(e, x -> new ArrayList<>()).add(path);
              }
            });
      }
    }
    if (!conflicts.isEmpty() && !force) {
      throw conflict(conflicts);
    }
    ObjectNode merged;
    if (live == null) {
      merged = config.deepCopy();
    } else {
      merged = live.deepCopy();
      FieldPaths.merge(t.kind(), "", merged, config);
    }
    List<Entry> out = new ArrayList<>();
    FieldSet others = new FieldSet();
    for (Entry e : entries) {
      if (e == previous) {
        continue;
      }
      FieldSet kept = e.fields();
      List<List<String>> lost = conflicts.get(e);
      if (lost != null) {
        FieldSet taken = new FieldSet();
        for (List<String> p : lost) {
          FieldSet n = taken;
          for (String el : p) {
            n = n.child(el);
          }
          n.setMember(true);
        }
        kept = kept.difference(taken);
        kept.prune();
      }
      if (!kept.isEmpty()) {
        out.add(kept == e.fields() ? e : e.withFields(kept));
        others = others.union(kept);
      }
    }
    if (previous != null) {
      FieldSet gone = previous.fields().difference(applied).difference(others);
      gone.prune();
      if (!gone.isEmpty()) {
        // A map or list the manager owned as a whole ("." in its fieldsV1, as kubectl's
        // client-side to server-side apply migration writes) stays when fields below it are still
        // owned, by anyone, this applier included: structured-merge-diff removes it and then adds
        // back every owned item.
        FieldPaths.remove(t.kind(), "", merged, gone, others.union(applied), null);
      }
    }
    String when = time;
    if (previous != null
        && previous.fields().equals(applied)
        && conflicts.isEmpty()
        && withoutManagedFields(merged).equals(withoutManagedFields(live))) {
      when = previous.time();
    }
    if (!applied.isEmpty()) {
      out.add(new Entry(manager, APPLY, t.apiVersion(), when, subresource, applied));
    }
    store(merged, out);
    return merged;
  }

  private static ObjectNode withoutManagedFields(ObjectNode obj) {
    ObjectNode copy = obj.deepCopy();
    if (copy.get("metadata") instanceof ObjectNode m) {
      m.remove("managedFields");
    }
    return copy;
  }

  private static ApiException conflict(Map<Entry, List<List<String>>> conflicts) {
    List<Cause> causes = new ArrayList<>();
    int count = 0;
    List<Entry> managers = new ArrayList<>(conflicts.keySet());
    managers.sort(Comparator.comparing(Entry::manager).thenComparing(Entry::describe));
    StringBuilder lines = new StringBuilder();
    for (Entry e : managers) {
      if (lines.length() > 0) {
        lines.append('\n');
      }
      lines.append("conflicts with ").append(e.describe()).append(':');
      for (List<String> p : conflicts.get(e)) {
        String field = FieldSet.display(p);
        causes.add(new Cause("FieldManagerConflict", field, "conflict with " + e.describe()));
        lines.append("\n- ").append(field);
        count++;
      }
    }
    String message =
        count == 1
            ? "Apply failed with 1 conflict: conflict with "
                + managers.get(0).describe()
                + ": "
                + causes.get(0).field()
            : "Apply failed with " + count + " conflicts: " + lines;
    return ApiException.applyConflict(causes, message);
  }
}

package dev.kubelite.apiserver.managed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.Json;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * A set of field paths, as a trie keyed by Kubernetes' {@code fieldsV1} path elements: {@code
 * f:<field>}, {@code k:<key object as JSON>} (an element of a list merged by key), {@code v:<value
 * as JSON>} (an element of a set of primitives) and {@code i:<index>}. A node is a member of the
 * set when {@link #member} is true; in {@code fieldsV1} a member without children is written {@code
 * {}} and a member with children carries a {@code ".": {}} entry. Keys sort as strings, which puts
 * {@code "."} first and then {@code f:}, {@code i:}, {@code k:}, {@code v:}.
 */
public final class FieldSet {
  private boolean member;
  private TreeMap<String, FieldSet> children;

  public FieldSet() {}

  public boolean member() {
    return member;
  }

  void setMember(boolean m) {
    member = m;
  }

  /** The child node for {@code element}, created if missing. */
  FieldSet child(String element) {
    if (children == null) {
      children = new TreeMap<>();
    }
    return children.computeIfAbsent(element, e -> new FieldSet());
  }

  /** The child node for {@code element}, or null. */
  FieldSet get(String element) {
    return children == null ? null : children.get(element);
  }

  void removeChild(String element) {
    if (children != null) {
      children.remove(element);
    }
  }

  Map<String, FieldSet> children() {
    return children == null ? Map.of() : children;
  }

  boolean hasChildren() {
    return children != null && !children.isEmpty();
  }

  /** No member anywhere in this node or below. */
  public boolean isEmpty() {
    if (member) {
      return false;
    }
    if (children != null) {
      for (FieldSet c : children.values()) {
        if (!c.isEmpty()) {
          return false;
        }
      }
    }
    return true;
  }

  /** Drops the nodes below which nothing is a member; returns whether this node is empty. */
  boolean prune() {
    if (children != null) {
      for (Iterator<FieldSet> it = children.values().iterator(); it.hasNext(); ) {
        if (it.next().prune()) {
          it.remove();
        }
      }
      if (children.isEmpty()) {
        children = null;
      }
    }
    return !member && children == null;
  }

  /** Whether {@code path} (a list of elements from this node) is a member. */
  public boolean contains(List<String> path) {
    FieldSet n = this;
    for (String e : path) {
      n = n.get(e);
      if (n == null) {
        return false;
      }
    }
    return n.member;
  }

  /** A new set: the members of this or {@code other}. */
  public FieldSet union(FieldSet other) {
    FieldSet out = copy();
    out.addAll(other);
    return out;
  }

  private void addAll(FieldSet other) {
    if (other == null) {
      return;
    }
    member |= other.member;
    for (Map.Entry<String, FieldSet> e : other.children().entrySet()) {
      child(e.getKey()).addAll(e.getValue());
    }
  }

  /** A new set: the members of this that are not members of {@code other}. */
  public FieldSet difference(FieldSet other) {
    FieldSet out = new FieldSet();
    out.member = member && (other == null || !other.member);
    for (Map.Entry<String, FieldSet> e : children().entrySet()) {
      FieldSet d = e.getValue().difference(other == null ? null : other.get(e.getKey()));
      if (!d.isEmpty()) {
        if (out.children == null) {
          out.children = new TreeMap<>();
        }
        out.children.put(e.getKey(), d); // d is new: attached, not copied again
      }
    }
    return out;
  }

  public FieldSet copy() {
    FieldSet out = new FieldSet();
    out.addAll(this);
    return out;
  }

  /**
   * Calls {@code action} with every path that is a member of both this and {@code other} and has no
   * children in this set (the leaves a value can be compared at).
   */
  void forEachSharedLeaf(FieldSet other, BiConsumer<List<String>, FieldSet> action) {
    sharedLeaves(other, new ArrayList<>(), action);
  }

  private void sharedLeaves(
      FieldSet other, List<String> path, BiConsumer<List<String>, FieldSet> action) {
    if (member && other.member && !hasChildren()) {
      action.accept(List.copyOf(path), this);
    }
    for (Map.Entry<String, FieldSet> e : children().entrySet()) {
      FieldSet o = other.get(e.getKey());
      if (o != null) {
        path.add(e.getKey());
        e.getValue().sharedLeaves(o, path, action);
        path.remove(path.size() - 1);
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof FieldSet other)) {
      return false;
    }
    return member == other.member && children().equals(other.children());
  }

  @Override
  public int hashCode() {
    return Boolean.hashCode(member) * 31 + children().hashCode();
  }

  // ------------------------------------------------------------------------------ fieldsV1

  /** The {@code fieldsV1} JSON of this set. */
  public ObjectNode toFieldsV1() {
    ObjectNode o = Json.object();
    write(o);
    return o;
  }

  private void write(ObjectNode o) {
    if (member && hasChildren()) {
      o.putObject(".");
    }
    for (Map.Entry<String, FieldSet> e : children().entrySet()) {
      e.getValue().write(o.putObject(e.getKey()));
    }
  }

  /**
   * Reads {@code fieldsV1}; throws IllegalArgumentException naming the problem when it is not a
   * tree of path elements.
   */
  public static FieldSet fromFieldsV1(JsonNode json) {
    return fromFieldsV1(json, true);
  }

  /**
   * Reads {@code fieldsV1}; {@code checkKeys} also parses every {@code k:}/{@code v:}/{@code i:}
   * key's JSON (skipped for stored entries, which this server wrote).
   */
  static FieldSet fromFieldsV1(JsonNode json, boolean checkKeys) {
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException("fieldsV1 must be an object");
    }
    FieldSet s = new FieldSet();
    read(s, (ObjectNode) json, 0, checkKeys);
    s.prune();
    return s;
  }

  private static void read(FieldSet s, ObjectNode o, int depth, boolean checkKeys) {
    if (depth > Json.MAX_DEPTH) {
      throw new IllegalArgumentException("fieldsV1 is nested too deeply");
    }
    if (o.isEmpty()) {
      s.member = true;
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String k = e.getKey();
      if (!e.getValue().isObject()) {
        throw new IllegalArgumentException("fieldsV1 entry \"" + k + "\" is not an object");
      }
      if (k.equals(".")) {
        s.member = true;
        continue;
      }
      if (k.length() < 2
          || k.charAt(1) != ':'
          || "fkvi".indexOf(k.charAt(0)) < 0
          || (checkKeys && k.charAt(0) != 'f' && !validJson(k.substring(2)))) {
        throw new IllegalArgumentException(
            "fieldsV1 key \"" + k + "\" is not a path element (f:, k:, v:, i: or .)");
      }
      read(s.child(k), (ObjectNode) e.getValue(), depth + 1, checkKeys);
    }
  }

  private static boolean validJson(String s) {
    try {
      Json.MAPPER.readTree(s);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  /** A path as Kubernetes prints it in conflicts: {@code .spec.containers[name="c"].image}. */
  public static String display(List<String> path) {
    StringBuilder b = new StringBuilder();
    for (String e : path) {
      String rest = e.substring(2);
      switch (e.charAt(0)) {
        case 'f' -> b.append('.').append(rest);
        case 'i' -> b.append('[').append(rest).append(']');
        case 'v' -> b.append("[=").append(rest).append(']');
        default -> {
          b.append('[');
          try {
            JsonNode key = Json.MAPPER.readTree(rest);
            boolean first = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = key.fields(); it.hasNext(); ) {
              Map.Entry<String, JsonNode> f = it.next();
              if (!first) {
                b.append(',');
              }
              first = false;
              b.append(f.getKey()).append('=').append(f.getValue().toString());
            }
          } catch (java.io.IOException ex) {
            b.append(rest);
          }
          b.append(']');
        }
      }
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return toFieldsV1().toString();
  }
}

package dev.kubelite.client.cache;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Meta;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * A thread-safe local cache of objects by key ({@code namespace/name}) with secondary indexes. An
 * index function maps an object to the values it is indexed under (e.g. pods by {@code
 * spec.nodeName}); {@link #byIndex} answers from the index without scanning. Readers get the cached
 * trees themselves: treat them as read-only (copy with {@code deepCopy()} before changing).
 */
public final class Indexer {
  /** The namespace index, always present. */
  public static final String NAMESPACE = "namespace";

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<String, ObjectNode> items = new HashMap<>();
  private final Map<String, Function<ObjectNode, List<String>>> indexers = new HashMap<>();
  private final Map<String, Map<String, Set<String>>> indices = new HashMap<>();

  public Indexer() {
    addIndex(
        NAMESPACE,
        o -> {
          String ns = Meta.namespace(o);
          return ns == null ? List.of() : List.of(ns);
        });
  }

  /** Adds an index; objects already cached are indexed at once. */
  public void addIndex(String name, Function<ObjectNode, List<String>> fn) {
    lock.writeLock().lock();
    try {
      if (indexers.putIfAbsent(name, fn) != null) {
        throw new IllegalArgumentException("index " + name + " exists already");
      }
      indices.put(name, new HashMap<>());
      items.forEach((k, o) -> index(name, fn, k, o));
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** A common index: the value of a text field (e.g. "spec", "nodeName"), none when empty. */
  public static Function<ObjectNode, List<String>> field(String... path) {
    return o -> {
      com.fasterxml.jackson.databind.JsonNode n = o;
      for (String p : path) {
        n = n.path(p);
      }
      return n.isTextual() && !n.asText().isEmpty() ? List.of(n.asText()) : List.of();
    };
  }

  public ObjectNode get(String key) {
    lock.readLock().lock();
    try {
      return items.get(key);
    } finally {
      lock.readLock().unlock();
    }
  }

  public ObjectNode get(String namespace, String name) {
    return get(namespace == null || namespace.isEmpty() ? name : namespace + "/" + name);
  }

  public List<ObjectNode> list() {
    lock.readLock().lock();
    try {
      return new ArrayList<>(items.values());
    } finally {
      lock.readLock().unlock();
    }
  }

  public List<String> keys() {
    lock.readLock().lock();
    try {
      return new ArrayList<>(items.keySet());
    } finally {
      lock.readLock().unlock();
    }
  }

  public int size() {
    lock.readLock().lock();
    try {
      return items.size();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The objects indexed under {@code value} by index {@code name}. */
  public List<ObjectNode> byIndex(String name, String value) {
    lock.readLock().lock();
    try {
      Map<String, Set<String>> idx = indices.get(name);
      if (idx == null) {
        throw new IllegalArgumentException("no index named " + name);
      }
      List<ObjectNode> out = new ArrayList<>();
      for (String k : idx.getOrDefault(value, Set.of())) {
        out.add(items.get(k));
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Stores (adds or replaces) an object; returns the previous one or null. */
  ObjectNode put(ObjectNode o) {
    String key = Meta.key(o);
    lock.writeLock().lock();
    try {
      ObjectNode old = items.put(key, o);
      if (old != null) {
        unindex(key, old);
      }
      indexers.forEach((n, fn) -> index(n, fn, key, o));
      return old;
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Removes by key; returns the removed object or null. */
  ObjectNode remove(String key) {
    lock.writeLock().lock();
    try {
      ObjectNode old = items.remove(key);
      if (old != null) {
        unindex(key, old);
      }
      return old;
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void index(String name, Function<ObjectNode, List<String>> fn, String key, ObjectNode o) {
    Map<String, Set<String>> idx = indices.get(name);
    for (String v : fn.apply(o)) {
      idx.computeIfAbsent(v, x -> new HashSet<>()).add(key);
    }
  }

  private void unindex(String key, ObjectNode o) {
    indexers.forEach(
        (name, fn) -> {
          Map<String, Set<String>> idx = indices.get(name);
          for (String v : fn.apply(o)) {
            Set<String> s = idx.get(v);
            if (s != null) {
              s.remove(key);
              if (s.isEmpty()) {
                idx.remove(v);
              }
            }
          }
        });
  }
}

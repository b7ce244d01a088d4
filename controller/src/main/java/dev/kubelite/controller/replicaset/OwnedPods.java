package dev.kubelite.controller.replicaset;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Meta;
import dev.kubelite.controller.ControllerRefs;
import dev.kubelite.controller.Pods;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The active pods of each controller (by the uid of their controller reference), grouped by
 * namespace and label set, with the group's size and ready count kept up to date by the pod
 * informer's handler. The pods of one ReplicaSet nearly always share one label set (its
 * template's), so a reconcile evaluates the selector once per group and reads the counts, instead
 * of visiting every pod on every pod event (decision 0059). Inactive pods (finished or being
 * deleted) are not kept: the controller neither counts nor claims them. Thread-safe.
 */
final class OwnedPods {
  /** A label set's pods of one owner in one namespace (active only), with counts. */
  static final class Group {
    final String namespace;
    final Map<String, String> labels;
    private final Map<String, ObjectNode> pods = new LinkedHashMap<>();
    private int ready;

    private Group(String namespace, Map<String, String> labels) {
      this.namespace = namespace;
      this.labels = labels;
    }
  }

  /** What a reconcile reads of one group, copied under the lock. */
  record GroupView(
      String namespace, Map<String, String> labels, int size, int ready, Group group) {}

  private record GroupKey(String namespace, Map<String, String> labels) {}

  private record Entry(String owner, GroupKey group, boolean ready) {}

  private final Map<String, Map<GroupKey, Group>> byOwner = new HashMap<>();
  private final Map<String, Entry> byPod = new HashMap<>();

  /** A pod was added or changed (the informer's view of it). */
  synchronized void put(ObjectNode pod) {
    String key = Meta.key(pod);
    remove(key);
    String owner = ControllerRefs.controllerUid(pod);
    if (owner == null || !Pods.isActive(pod)) {
      return;
    }
    GroupKey gk = new GroupKey(Objects.toString(Meta.namespace(pod), ""), Meta.labels(pod));
    Group g =
        byOwner
            .computeIfAbsent(owner, o -> new HashMap<>())
            .computeIfAbsent(gk, k -> new Group(k.namespace(), k.labels()));
    boolean ready = Pods.isReady(pod);
    g.pods.put(key, pod);
    if (ready) {
      g.ready++;
    }
    byPod.put(key, new Entry(owner, gk, ready));
  }

  /** A pod is gone. */
  synchronized void remove(String podKey) {
    Entry e = byPod.remove(podKey);
    if (e == null) {
      return;
    }
    Map<GroupKey, Group> groups = byOwner.get(e.owner());
    Group g = groups.get(e.group());
    g.pods.remove(podKey);
    if (e.ready()) {
      g.ready--;
    }
    if (g.pods.isEmpty()) {
      groups.remove(e.group());
      if (groups.isEmpty()) {
        byOwner.remove(e.owner());
      }
    }
  }

  /** The groups of {@code owner}'s active pods (no pods copied). */
  synchronized List<GroupView> groups(String owner) {
    Map<GroupKey, Group> groups = byOwner.get(owner);
    if (groups == null) {
      return List.of();
    }
    List<GroupView> out = new ArrayList<>(groups.size());
    for (Group g : groups.values()) {
      out.add(new GroupView(g.namespace, g.labels, g.pods.size(), g.ready, g));
    }
    return out;
  }

  /** The pods of a group as they are now (empty if the group has emptied meanwhile). */
  synchronized List<ObjectNode> pods(GroupView v) {
    return new ArrayList<>(v.group().pods.values());
  }

  /** How many active pods of {@code owner} are kept (all groups). */
  synchronized int count(String owner) {
    int n = 0;
    for (Group g : byOwner.getOrDefault(owner, Map.of()).values()) {
      n += g.pods.size();
    }
    return n;
  }
}

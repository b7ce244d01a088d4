package dev.kubelite.apiserver.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.WatchCache;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Kubernetes' RBAC authorizer over the API server's own watch caches of Roles, ClusterRoles,
 * RoleBindings and ClusterRoleBindings: a request is allowed when a ClusterRoleBinding, or a
 * RoleBinding in the request's namespace, binds the user (by name, group or ServiceAccount) to a
 * role with a matching rule. The rules are indexed in memory and re-indexed only when one of the
 * four caches has moved on, so a decision never waits for the store. Otherwise it has no opinion
 * (the next authorizer, or the refusal).
 */
public final class RbacAuthorizer implements Decision.Maker {
  private static final String GROUP = "rbac.authorization.k8s.io";

  /** One policy rule, as PolicyRule holds it. */
  public record Rule(
      List<String> verbs,
      List<String> apiGroups,
      List<String> resources,
      List<String> resourceNames,
      List<String> nonResourceURLs) {

    static Rule of(JsonNode r) {
      return new Rule(
          strings(r.path("verbs")),
          strings(r.path("apiGroups")),
          strings(r.path("resources")),
          strings(r.path("resourceNames")),
          strings(r.path("nonResourceURLs")));
    }

    boolean allows(RequestAttributes a) {
      if (!verbs.contains("*") && !verbs.contains(a.verb())) {
        return false;
      }
      if (!a.resourceRequest()) {
        for (String u : nonResourceURLs) {
          if (u.equals("*")
              || u.equals(a.path())
              || (u.endsWith("*") && a.path().startsWith(u.substring(0, u.length() - 1)))) {
            return true;
          }
        }
        return false;
      }
      if (!apiGroups.contains("*") && !apiGroups.contains(a.apiGroup())) {
        return false;
      }
      if (!resourceMatches(a)) {
        return false;
      }
      return resourceNames.isEmpty() || (a.name() != null && resourceNames.contains(a.name()));
    }

    private boolean resourceMatches(RequestAttributes a) {
      String sub = a.subresource();
      String combined = sub == null ? a.resource() : a.resource() + "/" + sub;
      for (String r : resources) {
        if (r.equals("*") || r.equals(combined) || (sub != null && r.equals("*/" + sub))) {
          return true;
        }
      }
      return false;
    }
  }

  /** A binding: its subjects, the namespace it grants in (null = all), and its role's rules. */
  private record Binding(String name, String kind, String namespace, JsonNode subjects, Ref ref) {}

  private record Ref(String kind, String name) {}

  /** An immutable index of the policy as of some revisions of the four caches. */
  private record Index(
      long[] revisions,
      Map<String, List<Rule>> clusterRoles,
      Map<String, List<Rule>> roles,
      List<Binding> clusterBindings,
      Map<String, List<Binding>> bindingsByNamespace) {}

  private static final Index EMPTY =
      new Index(new long[] {-1, -1, -1, -1}, Map.of(), Map.of(), List.of(), Map.of());

  private volatile Registry registry;
  private volatile Index index = EMPTY;

  void attach(Registry registry) {
    this.registry = registry;
  }

  @Override
  public Decision decide(UserInfo user, RequestAttributes request) {
    Index ix = current();
    if (ix == null) {
      return Decision.noOpinion("RBAC: the policy is not loaded yet (the API server is starting)");
    }
    for (Binding b : ix.clusterBindings()) {
      if (binds(b, user) && rulesOf(ix, b).stream().anyMatch(r -> r.allows(request))) {
        return Decision.allow(
            "RBAC: allowed by ClusterRoleBinding \""
                + b.name()
                + "\" of ClusterRole \""
                + b.ref().name()
                + "\" to "
                + user.name());
      }
    }
    String ns = request.namespace();
    if (ns != null && !ns.isEmpty()) {
      for (Binding b : ix.bindingsByNamespace().getOrDefault(ns, List.of())) {
        if (binds(b, user) && rulesOf(ix, b).stream().anyMatch(r -> r.allows(request))) {
          return Decision.allow(
              "RBAC: allowed by RoleBinding \""
                  + b.name()
                  + "/"
                  + ns
                  + "\" of "
                  + b.ref().kind()
                  + " \""
                  + b.ref().name()
                  + "\" to "
                  + user.name());
        }
      }
    }
    return Decision.noOpinion("");
  }

  /** The rules a request may use under {@code user}, for tests and SelfSubjectRulesReview. */
  List<Rule> rulesFor(UserInfo user, String namespace) {
    Index ix = current();
    List<Rule> out = new ArrayList<>();
    if (ix == null) {
      return out;
    }
    for (Binding b : ix.clusterBindings()) {
      if (binds(b, user)) {
        out.addAll(rulesOf(ix, b));
      }
    }
    if (namespace != null) {
      for (Binding b : ix.bindingsByNamespace().getOrDefault(namespace, List.of())) {
        if (binds(b, user)) {
          out.addAll(rulesOf(ix, b));
        }
      }
    }
    return out;
  }

  /** A role's rules (a Role when {@code namespace} is not null), or null if it does not exist. */
  List<Rule> roleRules(String kind, String namespace, String name) {
    Index ix = current();
    if (ix == null) {
      return null;
    }
    return kind.equals("ClusterRole")
        ? ix.clusterRoles().get(name)
        : ix.roles().get(namespace + "/" + name);
  }

  private static List<Rule> rulesOf(Index ix, Binding b) {
    if (b.ref().kind().equals("ClusterRole")) {
      return ix.clusterRoles().getOrDefault(b.ref().name(), List.of());
    }
    return ix.roles().getOrDefault(b.namespace() + "/" + b.ref().name(), List.of());
  }

  /** Whether a subject of the binding is the user, one of its groups, or its ServiceAccount. */
  private static boolean binds(Binding b, UserInfo user) {
    for (JsonNode s : b.subjects()) {
      String name = s.path("name").asText("");
      switch (s.path("kind").asText("")) {
        case "User" -> {
          if (name.equals(user.name())) {
            return true;
          }
        }
        case "Group" -> {
          if (user.groups().contains(name)) {
            return true;
          }
        }
        case "ServiceAccount" -> {
          String ns = s.path("namespace").asText("");
          if (ns.isEmpty() && b.namespace() != null) {
            ns = b.namespace();
          }
          if (user.name().equals("system:serviceaccount:" + ns + ":" + name)) {
            return true;
          }
        }
        default -> {}
      }
    }
    return false;
  }

  /** Whether the policy has been loaded from the watch caches at least once. */
  boolean loaded() {
    return current() != null;
  }

  /** The index for the caches' current revisions, rebuilt if any moved; null before they run. */
  private Index current() {
    Registry r = registry;
    if (r == null) {
      return null;
    }
    WatchCache[] caches = new WatchCache[4];
    String[] kinds = {"ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"};
    long[] revisions = new long[4];
    for (int i = 0; i < 4; i++) {
      ResourceType t = r.table().byKind(GROUP, kinds[i]);
      caches[i] = r.caches().cache(t.keyPrefix());
      if (caches[i] == null) {
        return index == EMPTY ? null : index; // restarting: keep deciding on the last policy
      }
      revisions[i] = caches[i].revision();
    }
    Index ix = index;
    if (java.util.Arrays.equals(ix.revisions(), revisions)) {
      return ix;
    }
    synchronized (this) {
      ix = index;
      if (java.util.Arrays.equals(ix.revisions(), revisions)) {
        return ix;
      }
      ix = build(caches);
      index = ix;
      return ix;
    }
  }

  private static Index build(WatchCache[] caches) {
    long[] revisions = new long[4];
    List<List<ObjectNode>> objects = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      WatchCache.Snapshot s = caches[i].snapshot(caches[i].prefix());
      revisions[i] = s.revision();
      objects.add(s.items());
    }
    Map<String, List<Rule>> clusterRoles = new HashMap<>();
    for (ObjectNode o : objects.get(0)) {
      clusterRoles.put(o.path("metadata").path("name").asText(), rules(o));
    }
    Map<String, List<Rule>> roles = new HashMap<>();
    for (ObjectNode o : objects.get(1)) {
      roles.put(
          o.path("metadata").path("namespace").asText()
              + "/"
              + o.path("metadata").path("name").asText(),
          rules(o));
    }
    List<Binding> clusterBindings = new ArrayList<>();
    for (ObjectNode o : objects.get(2)) {
      clusterBindings.add(binding(o, null));
    }
    Map<String, List<Binding>> byNs = new HashMap<>();
    for (ObjectNode o : objects.get(3)) {
      String ns = o.path("metadata").path("namespace").asText();
      byNs.computeIfAbsent(ns, k -> new ArrayList<>()).add(binding(o, ns));
    }
    return new Index(revisions, clusterRoles, roles, clusterBindings, byNs);
  }

  private static List<Rule> rules(ObjectNode role) {
    List<Rule> out = new ArrayList<>();
    for (JsonNode r : role.path("rules")) {
      out.add(Rule.of(r));
    }
    return List.copyOf(out);
  }

  private static Binding binding(ObjectNode o, String ns) {
    JsonNode ref = o.path("roleRef");
    return new Binding(
        o.path("metadata").path("name").asText(),
        o.path("kind").asText(),
        ns,
        o.path("subjects"),
        new Ref(ref.path("kind").asText(), ref.path("name").asText()));
  }

  private static List<String> strings(JsonNode a) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : a) {
      out.add(e.asText());
    }
    return List.copyOf(out);
  }
}

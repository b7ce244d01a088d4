package dev.kubelite.apiserver.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.ObjectStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default ClusterRoles and ClusterRoleBindings, written at startup when missing (as
 * kube-apiserver's {@code rbac/bootstrap-roles} post-start hook does): cluster-admin, admin, edit,
 * view, the discovery roles for every authenticated user, and one role for each Kubelite component
 * that grants what it does and no more, bound to the identities the PKI issues.
 *
 * <p>Objects already present are reconciled as Kubernetes does, so a data dir made by an older
 * version gets the permissions this version's components need: unless annotated {@code
 * rbac.authorization.kubernetes.io/autoupdate: "false"}, a role gets each default rule its rules do
 * not already cover and a binding each default subject it lacks, and both get missing default
 * labels and annotations. Nothing is removed: an administrator's additions stay. A binding whose
 * roleRef was changed (only possible by deleting and recreating it) is left alone with a warning,
 * where Kubernetes would recreate it.
 */
public final class BootstrapPolicy {
  private static final Logger log = LoggerFactory.getLogger(BootstrapPolicy.class);

  static final String GROUP = "rbac.authorization.k8s.io";
  private static final List<String> READ = List.of("get", "list", "watch");
  private static final List<String> WRITE =
      List.of("create", "delete", "deletecollection", "patch", "update");
  private static final List<String> ALL_VERBS =
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");

  private BootstrapPolicy() {}

  /** A rule builder: {@code rule(verbs, groups, resources)}. */
  private static ObjectNode rule(List<String> verbs, List<String> groups, List<String> resources) {
    ObjectNode r = Json.object();
    strings(r.putArray("verbs"), verbs);
    strings(r.putArray("apiGroups"), groups);
    strings(r.putArray("resources"), resources);
    return r;
  }

  private static ObjectNode named(ObjectNode rule, String... names) {
    strings(rule.putArray("resourceNames"), List.of(names));
    return rule;
  }

  private static ObjectNode urls(List<String> verbs, List<String> urls) {
    ObjectNode r = Json.object();
    strings(r.putArray("verbs"), verbs);
    strings(r.putArray("nonResourceURLs"), urls);
    return r;
  }

  private static void strings(ArrayNode a, List<String> values) {
    values.forEach(a::add);
  }

  private static ObjectNode clusterRole(String name, List<ObjectNode> rules) {
    ObjectNode o = Json.object();
    o.put("apiVersion", GROUP + "/v1").put("kind", "ClusterRole");
    meta(o, name);
    ArrayNode a = o.putArray("rules");
    rules.forEach(a::add);
    return o;
  }

  private static void meta(ObjectNode o, String name) {
    ObjectNode m = o.putObject("metadata").put("name", name);
    m.putObject("labels").put("kubernetes.io/bootstrapping", "rbac-defaults");
    m.putObject("annotations").put("rbac.authorization.kubernetes.io/autoupdate", "true");
  }

  /** A ClusterRoleBinding of {@code role} to subjects {@code "User:x"} / {@code "Group:y"}. */
  private static ObjectNode binding(String name, String role, String... subjects) {
    ObjectNode o = Json.object();
    o.put("apiVersion", GROUP + "/v1").put("kind", "ClusterRoleBinding");
    meta(o, name);
    o.putObject("roleRef").put("apiGroup", GROUP).put("kind", "ClusterRole").put("name", role);
    ArrayNode s = o.putArray("subjects");
    for (String subject : subjects) {
      String[] kv = subject.split(":", 2);
      s.addObject().put("apiGroup", GROUP).put("kind", kv[0]).put("name", kv[1]);
    }
    return o;
  }

  /** The ClusterRoles, in the order they are written. */
  public static List<ObjectNode> clusterRoles() {
    List<ObjectNode> roles = new ArrayList<>();
    roles.add(
        clusterRole(
            "cluster-admin",
            List.of(
                rule(List.of("*"), List.of("*"), List.of("*")), urls(List.of("*"), List.of("*")))));
    List<ObjectNode> view =
        List.of(
            rule(
                READ,
                List.of(""),
                List.of(
                    "pods",
                    "pods/log",
                    "pods/status",
                    "configmaps",
                    "events",
                    "namespaces",
                    "namespaces/status",
                    "services",
                    "services/status",
                    "serviceaccounts")),
            rule(
                READ,
                List.of("apps"),
                List.of(
                    "deployments",
                    "deployments/scale",
                    "deployments/status",
                    "replicasets",
                    "replicasets/scale",
                    "replicasets/status")),
            rule(READ, List.of("coordination.k8s.io"), List.of("leases")));
    List<ObjectNode> edit = new ArrayList<>(view);
    edit.add(
        rule(
            ALL_VERBS,
            List.of(""),
            List.of("pods", "configmaps", "secrets", "services", "serviceaccounts", "events")));
    edit.add(
        rule(
            ALL_VERBS,
            List.of("apps"),
            List.of("deployments", "deployments/scale", "replicasets", "replicasets/scale")));
    edit.add(rule(ALL_VERBS, List.of("coordination.k8s.io"), List.of("leases")));
    List<ObjectNode> admin = new ArrayList<>(edit);
    admin.add(rule(ALL_VERBS, List.of(GROUP), List.of("roles", "rolebindings")));
    admin.add(
        rule(List.of("create"), List.of("authorization.k8s.io"), List.of("subjectaccessreviews")));
    roles.add(clusterRole("admin", admin));
    roles.add(clusterRole("edit", edit));
    roles.add(clusterRole("view", view));
    roles.add(
        clusterRole(
            "system:basic-user",
            List.of(
                rule(
                    List.of("create"),
                    List.of("authorization.k8s.io"),
                    List.of("selfsubjectaccessreviews", "selfsubjectrulesreviews")),
                rule(
                    List.of("create"),
                    List.of("authentication.k8s.io"),
                    List.of("selfsubjectreviews")))));
    roles.add(
        clusterRole(
            "system:discovery",
            List.of(
                urls(
                    List.of("get"),
                    List.of(
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                        "/healthz",
                        "/livez",
                        "/openapi",
                        "/openapi/*",
                        "/readyz",
                        "/version",
                        "/version/")))));
    roles.add(
        clusterRole(
            "system:public-info-viewer",
            List.of(
                urls(
                    List.of("get"),
                    List.of("/healthz", "/livez", "/readyz", "/version", "/version/")))));
    roles.add(
        clusterRole(
            "system:kube-scheduler",
            List.of(
                rule(
                    List.of("create", "patch", "update"),
                    List.of("", "events.k8s.io"),
                    List.of("events")),
                rule(List.of("create"), List.of("coordination.k8s.io"), List.of("leases")),
                named(
                    rule(
                        List.of("get", "update"),
                        List.of("coordination.k8s.io"),
                        List.of("leases")),
                    "kube-scheduler"),
                rule(READ, List.of(""), List.of("nodes", "namespaces", "services")),
                rule(List.of("delete", "get", "list", "watch"), List.of(""), List.of("pods")),
                rule(List.of("create"), List.of(""), List.of("bindings", "pods/binding")),
                rule(List.of("patch", "update"), List.of(""), List.of("pods/status")),
                rule(READ, List.of("apps"), List.of("replicasets")))));
    roles.add(
        clusterRole(
            "system:kube-controller-manager",
            List.of(
                // The garbage collector and namespace controller read, fix (ownerReferences,
                // finalizers, status) and delete anything, as Kubernetes' generic garbage
                // collector may: an owner of any kind deleted in the foreground or with its
                // dependents orphaned. RBAC objects included: escalation prevention still refuses
                // an update of a role's rules or a binding's subjects beyond what the controller
                // manager holds; only finalizer and ownerReference changes pass (Escalation).
                rule(
                    List.of(
                        "get", "list", "watch", "patch", "update", "delete", "deletecollection"),
                    List.of("*"),
                    List.of("*")),
                rule(List.of("create"), List.of(""), List.of("pods", "serviceaccounts")),
                rule(List.of("create"), List.of("apps"), List.of("replicasets")),
                rule(
                    List.of("create", "patch", "update"),
                    List.of("", "events.k8s.io"),
                    List.of("events")),
                rule(List.of("create"), List.of("coordination.k8s.io"), List.of("leases")),
                rule(
                    List.of("create"),
                    List.of("authorization.k8s.io"),
                    List.of("subjectaccessreviews")))));
    roles.add(
        clusterRole(
            "system:node",
            List.of(
                // Pods, nodes, leases and events are decided by the Node authorizer first.
                rule(READ, List.of(""), List.of("services", "namespaces", "configmaps")),
                rule(
                    List.of("create", "patch", "update"),
                    List.of("", "events.k8s.io"),
                    List.of("events")),
                rule(
                    List.of("create"),
                    List.of("authorization.k8s.io"),
                    List.of("subjectaccessreviews")))));
    roles.add(
        clusterRole(
            SIMULATED_NODES,
            List.of(
                // A simulated-kubelet process serving several nodes with one identity (bin/kubelite
                // up): what the Node authorizer grants one node, for every node.
                rule(
                    List.of("get", "list", "watch", "create", "update", "patch", "delete"),
                    List.of(""),
                    List.of("nodes")),
                rule(List.of("get", "update", "patch"), List.of(""), List.of("nodes/status")),
                rule(List.of("get", "list", "watch", "delete"), List.of(""), List.of("pods")),
                rule(List.of("get", "update", "patch"), List.of(""), List.of("pods/status")),
                rule(
                    List.of("get", "create", "update", "patch", "delete"),
                    List.of("coordination.k8s.io"),
                    List.of("leases")),
                rule(
                    List.of("create", "patch", "update"),
                    List.of("", "events.k8s.io"),
                    List.of("events")),
                rule(READ, List.of(""), List.of("services", "namespaces", "configmaps")))));
    return roles;
  }

  /**
   * The group (and ClusterRole) of a simulated-kubelet process that runs several nodes under one
   * identity; its members are not in {@code system:nodes}, so the Node authorizer leaves them to
   * RBAC.
   */
  public static final String SIMULATED_NODES = "kubelite:simulated-nodes";

  /** The ClusterRoleBindings, in the order they are written. */
  public static List<ObjectNode> clusterRoleBindings() {
    return List.of(
        binding("cluster-admin", "cluster-admin", "Group:system:masters"),
        binding("system:basic-user", "system:basic-user", "Group:system:authenticated"),
        binding("system:discovery", "system:discovery", "Group:system:authenticated"),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            "Group:system:authenticated",
            "Group:system:unauthenticated"),
        binding("system:kube-scheduler", "system:kube-scheduler", "User:system:kube-scheduler"),
        binding(
            "system:kube-controller-manager",
            "system:kube-controller-manager",
            "User:system:kube-controller-manager"),
        binding("system:node", "system:node", "Group:system:nodes"),
        binding(SIMULATED_NODES, SIMULATED_NODES, "Group:" + SIMULATED_NODES));
  }

  static final String AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate";

  /** Creates each missing role and binding and reconciles the existing ones (see above). */
  public static CompletableFuture<Void> ensure(Registry registry) {
    ResourceType roles = registry.table().byKind(GROUP, "ClusterRole");
    ResourceType bindings = registry.table().byKind(GROUP, "ClusterRoleBinding");
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (ObjectNode role : clusterRoles()) {
      chain = chain.thenCompose(v -> ensureOne(registry, roles, role));
    }
    for (ObjectNode binding : clusterRoleBindings()) {
      chain = chain.thenCompose(v -> ensureOne(registry, bindings, binding));
    }
    return chain;
  }

  private static CompletableFuture<Void> ensureOne(
      Registry registry, ResourceType t, ObjectNode wanted) {
    String name = Json.text(wanted, "metadata", "name");
    return registry
        .create(t, null, wanted.deepCopy())
        .<Void>thenApply(
            created -> {
              log.info("RBAC bootstrap: created {} {}", t.kind(), name);
              return null;
            })
        .exceptionallyCompose(
            e -> {
              ApiException a = ObjectStorage.translate(e);
              if (a.code() != 409) {
                return CompletableFuture.failedFuture(a);
              }
              return reconcile(registry, t, name, wanted);
            });
  }

  /** Brings an existing default role or binding up to date (see the class comment). */
  private static CompletableFuture<Void> reconcile(
      Registry registry, ResourceType t, String name, ObjectNode wanted) {
    AtomicReference<List<String>> changes = new AtomicReference<>(List.of());
    return registry
        .guaranteedUpdate(
            t,
            null,
            name,
            null,
            current -> {
              ObjectNode existing = current.object().deepCopy();
              changes.set(reconciled(existing, wanted));
              return existing;
            },
            false)
        .thenAccept(
            updated -> {
              if (!changes.get().isEmpty()) {
                log.info(
                    "RBAC bootstrap: updated {} {}: {}",
                    t.kind(),
                    name,
                    String.join("; ", changes.get()));
              }
            });
  }

  /**
   * Adds to {@code existing} what the default {@code wanted} has and it lacks; returns what was
   * added, for the log (empty: nothing to do).
   */
  static List<String> reconciled(ObjectNode existing, ObjectNode wanted) {
    ObjectNode meta = Json.child(existing, "metadata");
    if ("false".equals(meta.path("annotations").path(AUTOUPDATE).asText(null))) {
      return List.of();
    }
    List<String> changes = new ArrayList<>();
    if (wanted.has("rules")) {
      List<RbacAuthorizer.Rule> have = new ArrayList<>();
      existing.path("rules").forEach(r -> have.add(RbacAuthorizer.Rule.of(r)));
      for (JsonNode rule : wanted.path("rules")) {
        if (!covered(have, RbacAuthorizer.Rule.of(rule))) {
          arrayField(existing, "rules").add(rule.deepCopy());
          changes.add("added rule " + rule);
        }
      }
    } else {
      if (!existing.path("roleRef").equals(wanted.path("roleRef"))) {
        log.warn(
            "RBAC bootstrap: ClusterRoleBinding {} refers to {} instead of {}; left as it is"
                + " (delete it and restart the API server to get the default back)",
            Json.text(wanted, "metadata", "name"),
            existing.path("roleRef"),
            wanted.path("roleRef"));
        return List.of();
      }
      for (JsonNode subject : wanted.path("subjects")) {
        if (!hasSubject(existing.path("subjects"), subject)) {
          arrayField(existing, "subjects").add(subject.deepCopy());
          changes.add(
              "added subject "
                  + subject.path("kind").asText()
                  + " "
                  + subject.path("name").asText());
        }
      }
    }
    for (String field : List.of("labels", "annotations")) {
      wanted
          .path("metadata")
          .path(field)
          .fields()
          .forEachRemaining(
              e -> {
                ObjectNode mine = Json.child(meta, field);
                if (!mine.has(e.getKey())) {
                  mine.set(e.getKey(), e.getValue().deepCopy());
                  changes.add("added " + field + " " + e.getKey());
                }
              });
    }
    return changes;
  }

  /**
   * Whether {@code have} grants every atomic permission of {@code rule} (each verb on each group,
   * resource and name, or each URL): a wildcard is covered only by a wildcard, as in Kubernetes.
   */
  static boolean covered(List<RbacAuthorizer.Rule> have, RbacAuthorizer.Rule rule) {
    List<RequestAttributes> atoms = new ArrayList<>();
    for (String verb : rule.verbs()) {
      for (String url : rule.nonResourceURLs()) {
        atoms.add(new RequestAttributes(verb, false, null, null, null, null, null, url));
      }
      for (String group : rule.apiGroups()) {
        for (String resource : rule.resources()) {
          String[] rs = resource.split("/", 2);
          String sub = rs.length == 2 ? rs[1] : null;
          if (rule.resourceNames().isEmpty()) {
            atoms.add(new RequestAttributes(verb, true, group, rs[0], sub, null, null, ""));
          }
          for (String n : rule.resourceNames()) {
            atoms.add(new RequestAttributes(verb, true, group, rs[0], sub, null, n, ""));
          }
        }
      }
    }
    return atoms.stream().allMatch(a -> have.stream().anyMatch(r -> r.allows(a)));
  }

  private static ArrayNode arrayField(ObjectNode o, String field) {
    return o.get(field) instanceof ArrayNode a ? a : o.putArray(field);
  }

  private static boolean hasSubject(JsonNode subjects, JsonNode wanted) {
    for (JsonNode s : subjects) {
      if (s.path("kind").equals(wanted.path("kind"))
          && s.path("name").equals(wanted.path("name"))
          && s.path("namespace").asText("").equals(wanted.path("namespace").asText(""))) {
        return true;
      }
    }
    return false;
  }
}

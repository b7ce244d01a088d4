package dev.kubelite.apiserver.auth;

import dev.kubelite.apiserver.registry.Registry;
import dev.kubelite.apiserver.registry.ResourceType;
import dev.kubelite.apiserver.storage.CachedObject;
import dev.kubelite.apiserver.storage.WatchCache;
import java.util.Set;

/**
 * A simplified version of Kubernetes' Node authorizer (plus the part of its NodeRestriction
 * admission that limits a kubelet to its own objects), for users {@code system:node:<name>} in
 * group {@code system:nodes}:
 *
 * <ul>
 *   <li>nodes: get, list and watch any; create; update, patch and delete only its own Node (status
 *       included);
 *   <li>leases in {@code kube-node-lease}: create, and get, update, patch, delete its own;
 *   <li>pods: list and watch only with the field selector {@code spec.nodeName=<name>}; get, update
 *       and patch (status included) and delete only pods bound to it, found in the API server's pod
 *       watch cache;
 *   <li>events: create, update, patch in any namespace.
 * </ul>
 *
 * Any other request about nodes, leases or pods from a node is refused here; anything else is left
 * to the next authorizer (RBAC's {@code system:node} ClusterRole). Not modelled (unlike
 * Kubernetes): the Secrets, ConfigMaps and volumes a node's pods reference, mirror pods, and the
 * name in a create's body (a node can create any Node or Lease).
 */
public final class NodeAuthorizer implements Decision.Maker {
  public static final String NODES_GROUP = "system:nodes";
  public static final String NODE_USER_PREFIX = "system:node:";
  static final String LEASE_NAMESPACE = "kube-node-lease";

  private static final Set<String> READ = Set.of("get", "list", "watch");
  private static final Set<String> WRITE = Set.of("update", "patch", "delete");

  private volatile Registry registry;

  void attach(Registry registry) {
    this.registry = registry;
  }

  @Override
  public Decision decide(UserInfo user, RequestAttributes r) {
    if (!user.groups().contains(NODES_GROUP) || !user.name().startsWith(NODE_USER_PREFIX)) {
      return Decision.noOpinion("");
    }
    String node = user.name().substring(NODE_USER_PREFIX.length());
    if (node.isEmpty() || !r.resourceRequest()) {
      return Decision.noOpinion("");
    }
    String group = r.apiGroup();
    String resource = r.resource();
    if (group.isEmpty() && resource.equals("nodes")) {
      return nodes(node, r);
    }
    if (group.equals("coordination.k8s.io") && resource.equals("leases")) {
      return leases(node, r);
    }
    if (group.isEmpty() && resource.equals("pods")) {
      return pods(node, r);
    }
    if ((group.isEmpty() || group.equals("events.k8s.io")) && resource.equals("events")) {
      return Set.of("create", "update", "patch").contains(r.verb())
          ? Decision.allow("")
          : Decision.noOpinion("");
    }
    return Decision.noOpinion("");
  }

  private static Decision nodes(String node, RequestAttributes r) {
    if (r.subresource() != null && !r.subresource().equals("status")) {
      return Decision.deny("node '" + node + "' cannot use nodes/" + r.subresource());
    }
    if (READ.contains(r.verb()) || (r.verb().equals("create") && r.subresource() == null)) {
      return Decision.allow("");
    }
    if (WRITE.contains(r.verb()) && node.equals(r.name())) {
      return Decision.allow("");
    }
    return Decision.deny("node '" + node + "' cannot modify node '" + r.name() + "'");
  }

  private static Decision leases(String node, RequestAttributes r) {
    if (!LEASE_NAMESPACE.equals(r.namespace())) {
      return Decision.deny("can only access leases in the namespace " + LEASE_NAMESPACE);
    }
    if (r.verb().equals("create") && r.name() == null) {
      return Decision.allow("");
    }
    if ((r.verb().equals("get") || WRITE.contains(r.verb())) && node.equals(r.name())) {
      return Decision.allow("");
    }
    return Decision.deny("can only access the lease of node '" + node + "'");
  }

  private Decision pods(String node, RequestAttributes r) {
    String sub = r.subresource();
    if (r.name() == null && (r.verb().equals("list") || r.verb().equals("watch"))) {
      if (selectsNode(r, node)) {
        return Decision.allow("");
      }
      return Decision.deny(
          "can only list/watch pods with spec.nodeName=" + node + " field selector");
    }
    boolean readOrWrite =
        (sub == null && (r.verb().equals("get") || WRITE.contains(r.verb())))
            || ("status".equals(sub)
                && (r.verb().equals("get")
                    || r.verb().equals("update")
                    || r.verb().equals("patch")));
    if (!readOrWrite) {
      return Decision.deny(
          "node '" + node + "' cannot " + r.verb() + " pods" + (sub == null ? "" : "/" + sub));
    }
    String boundTo = boundNode(r.namespace(), r.name());
    if (node.equals(boundTo)) {
      return Decision.allow("");
    }
    return Decision.deny("no relationship found between node '" + node + "' and this object");
  }

  /** Whether the field selector has the term {@code spec.nodeName=<node>} (or {@code ==}). */
  static boolean selectsNode(RequestAttributes r, String node) {
    String selector = r.fieldSelector();
    if (selector == null) {
      return false;
    }
    for (String term : selector.split(",")) {
      String t = term.trim();
      if (t.equals("spec.nodeName=" + node) || t.equals("spec.nodeName==" + node)) {
        return true;
      }
    }
    return false;
  }

  /** The node a pod is bound to, as the API server's pod watch cache holds it (null if none). */
  private String boundNode(String namespace, String name) {
    Registry reg = registry;
    if (reg == null || namespace == null) {
      return null;
    }
    ResourceType pods = reg.table().byKind("", "Pod");
    WatchCache cache = reg.caches().cache(pods.keyPrefix());
    if (cache == null) {
      return null;
    }
    CachedObject pod = cache.peek(pods.key(namespace, name));
    if (pod == null) {
      return null;
    }
    String bound = pod.field("spec.nodeName");
    return bound.isEmpty() ? null : bound;
  }
}

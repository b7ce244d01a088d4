package dev.kubelite.apiserver.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Kubernetes' RBAC escalation prevention: a user may create or update a Role or ClusterRole only if
 * they already hold every permission it grants (in its namespace, or cluster-wide for a
 * ClusterRole), unless they have the {@code escalate} verb on it; and may create or update a
 * binding only if they hold every permission of the role it references, unless they have the {@code
 * bind} verb on that role. Members of {@code system:masters} pass. Runs on the event loop over the
 * authorizers' in-memory policy.
 *
 * <p>A PATCH of a role cannot be judged before it is applied, so it needs {@code escalate}
 * (stricter than Kubernetes, which checks the patched result); a PATCH of a binding is judged by
 * the binding's current roleRef, which cannot change. An update (PUT) that leaves a role's rules,
 * or a binding's roleRef and subjects, as they are passes without the check (the garbage
 * collector's finalizer and ownerReference updates; Kubernetes exempts those too).
 */
public final class Escalation {
  static final String GROUP = "rbac.authorization.k8s.io";

  private Escalation() {}

  /** Whether escalation prevention applies to this resource. */
  public static boolean governs(String group, String resource) {
    return GROUP.equals(group)
        && List.of("roles", "clusterroles", "rolebindings", "clusterrolebindings")
            .contains(resource);
  }

  /**
   * Checks a create (POST), update (PUT) or patch of an RBAC object by {@code user}; {@code body}
   * is the object sent (null for a patch). Throws 403 Forbidden when it would grant more than the
   * user holds.
   */
  public static void check(
      AuthorizerChain chain,
      UserInfo user,
      RequestAttributes request,
      ObjectNode body,
      ObjectNode current) {
    if (user.groups().contains(AuthorizerChain.MASTERS)) {
      return;
    }
    String resource = request.resource();
    String ns = request.namespace();
    boolean role = resource.equals("roles") || resource.equals("clusterroles");
    String name = request.name() != null ? request.name() : nameOf(body);
    if (body != null && current != null && grantsNothingNew(role, body, current)) {
      // An update that keeps the permissions and who holds them, e.g. the garbage collector
      // removing a finalizer or an ownerReference (Kubernetes lets such GC-field updates
      // through without the check too).
      return;
    }
    if (role) {
      if (allowed(chain, user, "escalate", resource, ns, name)) {
        return;
      }
      if (body == null) {
        throw refused(
            request,
            user,
            "a patch of "
                + resource
                + " needs the escalate verb (Kubelite cannot check the patched rules in advance)");
      }
      List<RbacAuthorizer.Rule> wanted = new ArrayList<>();
      body.path("rules").forEach(r -> wanted.add(RbacAuthorizer.Rule.of(r)));
      List<String> missing = missing(chain, user, wanted, ns);
      if (!missing.isEmpty()) {
        throw refused(
            request,
            user,
            "user \""
                + user.name()
                + "\" is attempting to grant RBAC permissions not currently held: "
                + String.join("; ", missing));
      }
      return;
    }
    ObjectNode binding = body != null ? body : current;
    if (binding == null) {
      return; // a patch of a binding that does not exist: the handler answers 404
    }
    JsonNode ref = binding.path("roleRef");
    String refKind = ref.path("kind").asText("");
    String refName = ref.path("name").asText("");
    String refResource = refKind.equals("Role") ? "roles" : "clusterroles";
    String refNs = refKind.equals("Role") ? ns : null;
    if (allowed(chain, user, "bind", refResource, ns, refName)) {
      return;
    }
    List<RbacAuthorizer.Rule> rules = chain.roleRules(refKind, refNs, refName);
    if (rules == null) {
      throw refused(
          request,
          user,
          refKind
              + " \""
              + refName
              + "\" not found, and user \""
              + user.name()
              + "\" may not bind it");
    }
    List<String> missing = missing(chain, user, rules, ns);
    if (!missing.isEmpty()) {
      throw refused(
          request,
          user,
          "user \""
              + user.name()
              + "\" is attempting to grant RBAC permissions not currently held: "
              + String.join("; ", missing));
    }
  }

  /**
   * Whether an update of a role leaves its rules (and aggregation rule) as they are, or an update
   * of a binding its roleRef and subjects: then it grants nobody anything they did not have.
   */
  static boolean grantsNothingNew(boolean role, ObjectNode body, ObjectNode current) {
    List<String> fields =
        role ? List.of("rules", "aggregationRule") : List.of("roleRef", "subjects");
    for (String f : fields) {
      if (!body.path(f).equals(current.path(f))) {
        return false;
      }
    }
    return true;
  }

  private static String nameOf(ObjectNode body) {
    return body == null ? null : body.path("metadata").path("name").asText(null);
  }

  private static boolean allowed(
      AuthorizerChain chain, UserInfo user, String verb, String resource, String ns, String name) {
    return chain
        .decide(
            user,
            new RequestAttributes(
                verb,
                true,
                GROUP,
                resource,
                null,
                ns,
                name == null || name.isEmpty() ? null : name,
                ""))
        .allowed();
  }

  /** Every atomic permission of {@code rules} the user does not hold, described for the user. */
  private static List<String> missing(
      AuthorizerChain chain, UserInfo user, List<RbacAuthorizer.Rule> rules, String ns) {
    List<String> out = new ArrayList<>();
    for (RbacAuthorizer.Rule r : rules) {
      for (String verb : r.verbs()) {
        if (!r.nonResourceURLs().isEmpty()) {
          for (String u : r.nonResourceURLs()) {
            RequestAttributes a =
                new RequestAttributes(
                    verb.toLowerCase(Locale.ROOT), false, null, null, null, null, null, u);
            if (!chain.decide(user, a).allowed()) {
              out.add("{" + verb + " " + u + "}");
            }
          }
          continue;
        }
        for (String g : r.apiGroups()) {
          for (String res : r.resources()) {
            String resource = res;
            String sub = null;
            int slash = res.indexOf('/');
            if (slash > 0) {
              sub = res.substring(slash + 1);
              resource = res.substring(0, slash);
            }
            List<String> names = new ArrayList<>(r.resourceNames());
            if (names.isEmpty()) {
              names.add(null);
            }
            for (String n : names) {
              RequestAttributes a = new RequestAttributes(verb, true, g, resource, sub, ns, n, "");
              if (!chain.decide(user, a).allowed()) {
                out.add(
                    "{"
                        + verb
                        + " "
                        + (g.isEmpty() ? "core" : g)
                        + " "
                        + res
                        + (n == null ? "" : " " + n)
                        + (ns == null ? "" : " in " + ns)
                        + "}");
              }
            }
          }
        }
      }
    }
    return out;
  }

  private static ApiException refused(RequestAttributes r, UserInfo user, String why) {
    return ApiException.forbidden(r.apiGroup(), r.resource(), r.name(), why);
  }
}

package dev.kubelite.apiserver.auth;

import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.registry.Registry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The authorizers of {@code --authorization-mode}, asked in order as kube-apiserver's union
 * authorizer does: the first that allows or denies decides; if none does, the request is refused.
 * Members of {@code system:masters} are always allowed (Kubernetes' privileged-group authorizer, in
 * front of every mode). A refusal is a 403 Status saying who was refused what, in kube-apiserver's
 * words.
 */
public final class AuthorizerChain implements Authorizer, Decision.Maker {
  /** The group whose members may do everything, whatever the policy says. */
  public static final String MASTERS = "system:masters";

  /** The modes {@code --authorization-mode} accepts. */
  public static final List<String> MODES = List.of("AlwaysAllow", "AlwaysDeny", "Node", "RBAC");

  private static final Decision.Maker ALWAYS_ALLOW = (u, r) -> Decision.allow("");

  private final List<Decision.Maker> members;
  private final RbacAuthorizer rbac;
  private final NodeAuthorizer node;

  private AuthorizerChain(List<Decision.Maker> members, RbacAuthorizer rbac, NodeAuthorizer node) {
    this.members = List.copyOf(members);
    this.rbac = rbac;
    this.node = node;
  }

  /**
   * The chain for kube-apiserver's {@code --authorization-mode} values ({@code Node,RBAC}); throws
   * IllegalArgumentException naming an unknown or repeated mode.
   */
  public static AuthorizerChain of(List<String> modes) {
    if (modes.isEmpty()) {
      throw new IllegalArgumentException(
          "at least one authorization mode must be passed (one of " + MODES + ")");
    }
    List<Decision.Maker> members = new ArrayList<>();
    RbacAuthorizer rbac = null;
    NodeAuthorizer node = null;
    List<String> seen = new ArrayList<>();
    for (String raw : modes) {
      String m = raw.trim();
      if (seen.contains(m)) {
        throw new IllegalArgumentException("authorization mode \"" + m + "\" given twice");
      }
      seen.add(m);
      switch (m) {
        case "AlwaysAllow" -> members.add(ALWAYS_ALLOW);
        case "AlwaysDeny" -> members.add((u, r) -> Decision.noOpinion("Everything is forbidden."));
        case "Node" -> {
          node = new NodeAuthorizer();
          members.add(node);
        }
        case "RBAC" -> {
          rbac = new RbacAuthorizer();
          members.add(rbac);
        }
        default ->
            throw new IllegalArgumentException(
                "unknown authorization mode \""
                    + m
                    + "\" (supported: "
                    + String.join(", ", MODES)
                    + ")");
      }
    }
    return new AuthorizerChain(members, rbac, node);
  }

  /** Gives the authorizers the API server's watch caches (called once, when it starts). */
  public void attach(Registry registry) {
    if (rbac != null) {
      rbac.attach(registry);
    }
    if (node != null) {
      node.attach(registry);
    }
  }

  /**
   * The rules of a Role ({@code namespace} given) or ClusterRole as RBAC currently sees them; null
   * if there is none or RBAC is off.
   */
  List<RbacAuthorizer.Rule> roleRules(String kind, String namespace, String name) {
    return rbac == null ? null : rbac.roleRules(kind, namespace, name);
  }

  /**
   * What {@code user} may do in {@code namespace} (null: cluster-wide rules only), as
   * SelfSubjectRulesReview answers it: each mode's rules in turn. {@code incomplete} when a mode
   * cannot list its rules (the Node authorizer for a node, as in Kubernetes).
   */
  public Rules rulesFor(UserInfo user, String namespace) {
    if (user.groups().contains(MASTERS)) {
      return Rules.EVERYTHING;
    }
    List<RbacAuthorizer.Rule> out = new ArrayList<>();
    boolean incomplete = false;
    String error = null;
    for (Decision.Maker m : members) {
      if (m == rbac) {
        out.addAll(rbac.rulesFor(user, namespace));
      } else if (m == node) {
        if (user.groups().contains(NodeAuthorizer.NODES_GROUP)
            && user.name().startsWith(NodeAuthorizer.NODE_USER_PREFIX)) {
          incomplete = true;
          error = "node authorizer does not support user rule resolution";
        }
      } else if (m == ALWAYS_ALLOW) {
        return Rules.EVERYTHING;
      }
    }
    return new Rules(out, incomplete, error);
  }

  /** The rules of a SelfSubjectRulesReview; {@code error} null when there is none. */
  public record Rules(List<RbacAuthorizer.Rule> rules, boolean incomplete, String error) {
    /** Everything: system:masters, AlwaysAllow, or no authorization at all. */
    public static final Rules EVERYTHING =
        new Rules(
            List.of(
                new RbacAuthorizer.Rule(
                    List.of("*"), List.of("*"), List.of("*"), List.of(), List.of()),
                new RbacAuthorizer.Rule(
                    List.of("*"), List.of(), List.of(), List.of(), List.of("*"))),
            false,
            null);
  }

  /** Whether RBAC is among the modes (the API server then writes the bootstrap policy). */
  public boolean rbacEnabled() {
    return rbac != null;
  }

  @Override
  public Decision decide(UserInfo user, RequestAttributes request) {
    if (user.groups().contains(MASTERS)) {
      return Decision.allow("");
    }
    List<String> reasons = new ArrayList<>();
    for (Decision.Maker m : members) {
      Decision d = m.decide(user, request);
      if (d.kind() != Decision.Kind.NO_OPINION) {
        return d;
      }
      if (d.reason() != null && !d.reason().isEmpty()) {
        reasons.add(d.reason());
      }
    }
    return Decision.noOpinion(String.join(", ", reasons));
  }

  @Override
  public void authorize(UserInfo user, RequestAttributes request) {
    Decision d = decide(user, request);
    if (!d.allowed()) {
      if (d.kind() == Decision.Kind.NO_OPINION && rbac != null && !rbac.loaded()) {
        // Not a refusal: the policy is not known yet (an API server that listens before its
        // caches run, as a member of up --ha does). 503 with Retry-After makes clients retry
        // instead of taking a 403 for an answer (decision 0097).
        throw ApiException.unavailable(
            "the RBAC policy is not loaded yet (the API server is starting); retry in a moment");
      }
      throw forbidden(user, request, d.reason());
    }
  }

  /**
   * kube-apiserver's 403: {@code pods "x" is forbidden: User "u" cannot get resource "pods" in API
   * group "" in the namespace "default"}, then {@code : reason} when an authorizer gave one.
   */
  public static ApiException forbidden(UserInfo user, RequestAttributes r, String reason) {
    String why = refusal(user, r) + (reason == null || reason.isEmpty() ? "" : ": " + reason);
    if (!r.resourceRequest()) {
      return ApiException.forbidden(why);
    }
    return ApiException.forbidden(r.apiGroup(), r.resource(), r.name(), why);
  }

  static String refusal(UserInfo user, RequestAttributes r) {
    if (!r.resourceRequest()) {
      return String.format(
          Locale.ROOT, "User \"%s\" cannot %s path \"%s\"", user.name(), r.verb(), r.path());
    }
    String resource = r.subresource() == null ? r.resource() : r.resource() + "/" + r.subresource();
    String where =
        r.namespace() == null || r.namespace().isEmpty()
            ? "at the cluster scope"
            : "in the namespace \"" + r.namespace() + "\"";
    return String.format(
        Locale.ROOT,
        "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" %s",
        user.name(),
        r.verb(),
        resource,
        r.apiGroup(),
        where);
  }
}

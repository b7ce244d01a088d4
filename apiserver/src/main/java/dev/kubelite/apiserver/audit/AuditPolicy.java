package dev.kubelite.apiserver.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.auth.RequestAttributes;
import dev.kubelite.apiserver.auth.UserInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Which requests are audited, and how much of each: Kubernetes' audit {@code Policy}
 * (audit.k8s.io/v1, the file of {@code --audit-policy-file}). The first rule that matches a request
 * gives its level; a request no rule matches is not audited (level None), as in Kubernetes.
 *
 * <p>Whatever the policy says, Secrets, ConfigMaps and TokenReviews are audited at Metadata at
 * most, so their values never reach the audit log (decision 0096).
 */
public final class AuditPolicy {

  /** How much of a request is recorded, in increasing order. */
  public enum Level {
    None,
    Metadata,
    Request,
    RequestResponse;

    public boolean atLeast(Level other) {
      return compareTo(other) >= 0;
    }
  }

  /** The stages an event may be written at. */
  public enum Stage {
    RequestReceived,
    ResponseStarted,
    ResponseComplete,
    Panic
  }

  /** A policy file that cannot be used. */
  public static final class InvalidPolicyException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidPolicyException(String message) {
      super(message);
    }
  }

  /** The level of one request and the stages not to write for it. */
  public record Decision(Level level, Set<Stage> omitStages) {
    public boolean writes(Stage stage) {
      return level != Level.None && !omitStages.contains(stage);
    }
  }

  /** One {@code resources} entry of a rule: a group, resources in it, optionally names. */
  record GroupResources(String group, List<String> resources, List<String> resourceNames) {}

  /** One rule; empty lists match everything. */
  record Rule(
      Level level,
      List<String> users,
      List<String> userGroups,
      List<String> verbs,
      List<GroupResources> resources,
      List<String> namespaces,
      List<String> nonResourceURLs,
      Set<Stage> omitStages) {}

  /** Resources whose values are secrets: never audited above Metadata. */
  private static final Set<String> METADATA_ONLY =
      Set.of("/secrets", "/configmaps", "authentication.k8s.io/tokenreviews");

  private final List<Rule> rules;
  private final Set<Stage> omitStages;

  private AuditPolicy(List<Rule> rules, Set<Stage> omitStages) {
    this.rules = List.copyOf(rules);
    this.omitStages = omitStages;
  }

  /**
   * The policy without a policy file: every request at Metadata, one event per request when its
   * response is complete (plus ResponseStarted for long-running requests); RequestReceived omitted.
   */
  public static AuditPolicy metadataForAll() {
    return new AuditPolicy(
        List.of(
            new Rule(
                Level.Metadata,
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                List.of(),
                EnumSet.noneOf(Stage.class))),
        EnumSet.of(Stage.RequestReceived));
  }

  /** Reads a Policy (YAML or JSON). */
  public static AuditPolicy load(Path file) throws InvalidPolicyException {
    JsonNode root;
    try {
      root = Json.YAML.readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new InvalidPolicyException("cannot read " + file + ": " + e.getMessage());
    }
    return parse(root, file.toString());
  }

  static AuditPolicy parse(JsonNode root, String source) throws InvalidPolicyException {
    if (root == null || !root.isObject()) {
      throw new InvalidPolicyException(source + ": not an audit Policy object");
    }
    String kind = root.path("kind").asText("");
    String apiVersion = root.path("apiVersion").asText("");
    if (!kind.equals("Policy")
        || !(apiVersion.equals("audit.k8s.io/v1")
            || apiVersion.equals("audit.k8s.io/v1beta1")
            || apiVersion.equals("audit.k8s.io/v1alpha1"))) {
      throw new InvalidPolicyException(
          source
              + ": expected kind Policy, apiVersion audit.k8s.io/v1; got kind \""
              + kind
              + "\", apiVersion \""
              + apiVersion
              + "\"");
    }
    Set<Stage> omit = stages(root.path("omitStages"), source + ": omitStages");
    List<Rule> rules = new ArrayList<>();
    JsonNode rs = root.path("rules");
    if (!rs.isMissingNode() && !rs.isNull() && !rs.isArray()) {
      throw new InvalidPolicyException(source + ": rules must be a list");
    }
    int i = 0;
    for (JsonNode r : rs) {
      String where = source + ": rules[" + i++ + "]";
      String levelText = r.path("level").asText("");
      Level level;
      try {
        level = Level.valueOf(levelText);
      } catch (IllegalArgumentException e) {
        throw new InvalidPolicyException(
            where
                + ".level: \""
                + levelText
                + "\" is not one of None, Metadata, Request, RequestResponse");
      }
      List<GroupResources> groups = new ArrayList<>();
      for (JsonNode g : r.path("resources")) {
        groups.add(
            new GroupResources(
                g.path("group").asText(""),
                strings(g.path("resources"), where + ".resources.resources"),
                strings(g.path("resourceNames"), where + ".resources.resourceNames")));
      }
      List<String> nonResource = strings(r.path("nonResourceURLs"), where + ".nonResourceURLs");
      List<String> namespaces = strings(r.path("namespaces"), where + ".namespaces");
      if (!nonResource.isEmpty() && (!groups.isEmpty() || !namespaces.isEmpty())) {
        throw new InvalidPolicyException(
            where + ": rules can apply to API resources or nonResourceURLs, but not both");
      }
      rules.add(
          new Rule(
              level,
              strings(r.path("users"), where + ".users"),
              strings(r.path("userGroups"), where + ".userGroups"),
              strings(r.path("verbs"), where + ".verbs"),
              groups,
              namespaces,
              nonResource,
              stages(r.path("omitStages"), where + ".omitStages")));
    }
    return new AuditPolicy(rules, omit);
  }

  private static List<String> strings(JsonNode n, String where) throws InvalidPolicyException {
    if (n.isMissingNode() || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw new InvalidPolicyException(where + ": must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode s : n) {
      if (!s.isTextual()) {
        throw new InvalidPolicyException(where + ": must be a list of strings");
      }
      out.add(s.asText());
    }
    return out;
  }

  private static Set<Stage> stages(JsonNode n, String where) throws InvalidPolicyException {
    Set<Stage> out = EnumSet.noneOf(Stage.class);
    for (String s : strings(n, where)) {
      try {
        out.add(Stage.valueOf(s));
      } catch (IllegalArgumentException e) {
        throw new InvalidPolicyException(
            where
                + ": \""
                + s
                + "\" is not one of RequestReceived, ResponseStarted, ResponseComplete, Panic");
      }
    }
    return out;
  }

  /** The level of a request by {@code user} (null before authentication) asking {@code attrs}. */
  public Decision decide(UserInfo user, RequestAttributes attrs) {
    for (Rule r : rules) {
      if (matches(r, user, attrs)) {
        Set<Stage> omit = EnumSet.noneOf(Stage.class);
        omit.addAll(omitStages);
        omit.addAll(r.omitStages());
        Level level = r.level();
        if (level.atLeast(Level.Request) && metadataOnly(attrs)) {
          level = Level.Metadata;
        }
        return new Decision(level, omit);
      }
    }
    return new Decision(Level.None, Set.of());
  }

  /** Whether the request touches a resource whose values must never be logged. */
  static boolean metadataOnly(RequestAttributes attrs) {
    return attrs.resourceRequest()
        && METADATA_ONLY.contains(
            (attrs.apiGroup() == null ? "" : attrs.apiGroup()) + "/" + attrs.resource());
  }

  private static boolean matches(Rule r, UserInfo user, RequestAttributes attrs) {
    if (!r.users().isEmpty() && (user == null || !r.users().contains(user.name()))) {
      return false;
    }
    if (!r.userGroups().isEmpty()) {
      if (user == null || user.groups().stream().noneMatch(r.userGroups()::contains)) {
        return false;
      }
    }
    if (!r.verbs().isEmpty() && !r.verbs().contains(attrs.verb())) {
      return false;
    }
    boolean resourceRule = !r.resources().isEmpty() || !r.namespaces().isEmpty();
    boolean nonResourceRule = !r.nonResourceURLs().isEmpty();
    if (!resourceRule && !nonResourceRule) {
      return true;
    }
    if (attrs.resourceRequest()) {
      return resourceRule && resourceMatches(r, attrs);
    }
    return nonResourceRule && pathMatches(r.nonResourceURLs(), attrs.path());
  }

  private static boolean resourceMatches(Rule r, RequestAttributes attrs) {
    if (!r.namespaces().isEmpty()) {
      String ns = attrs.namespace() == null ? "" : attrs.namespace();
      if (!r.namespaces().contains(ns)) {
        return false;
      }
    }
    if (r.resources().isEmpty()) {
      return true;
    }
    String group = attrs.apiGroup() == null ? "" : attrs.apiGroup();
    String sub = attrs.subresource();
    String combined = sub == null ? attrs.resource() : attrs.resource() + "/" + sub;
    for (GroupResources g : r.resources()) {
      if (!g.group().equals(group)) {
        continue;
      }
      if (g.resources().isEmpty()) {
        return true;
      }
      if (!g.resourceNames().isEmpty()
          && (attrs.name() == null || !g.resourceNames().contains(attrs.name()))) {
        continue;
      }
      for (String res : g.resources()) {
        if (res.equals("*") || res.equals(combined)) {
          return true;
        }
        if (sub != null && res.startsWith("*/") && sub.equals(res.substring(2))) {
          return true;
        }
        if (res.endsWith("/*") && attrs.resource().equals(res.substring(0, res.length() - 2))) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean pathMatches(List<String> urls, String path) {
    for (String u : urls) {
      if (u.equals("*") || u.equals(path)) {
        return true;
      }
      if (u.endsWith("*") && path.startsWith(u.substring(0, u.length() - 1))) {
        return true;
      }
    }
    return false;
  }

  /** For tests and logs: how many rules. */
  int size() {
    return rules.size();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("AuditPolicy[");
    for (Iterator<Rule> it = rules.iterator(); it.hasNext(); ) {
      b.append(it.next().level());
      if (it.hasNext()) {
        b.append(", ");
      }
    }
    return b.append(']').toString();
  }
}

package dev.kubelite.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException.Cause;
import dev.kubelite.apiserver.api.Validation;
import dev.kubelite.apiserver.api.Validation.NameRule;
import java.util.List;

/**
 * Defaults and validation of {@code rbac.authorization.k8s.io/v1} objects, as Kubernetes' RBAC
 * registry strategy applies them: rules need verbs and either resources with API groups or
 * non-resource URLs (never both, and no URLs in a namespaced Role); a binding's roleRef names a
 * Role or ClusterRole and never changes; subjects are Users, Groups or ServiceAccounts.
 */
final class RbacStrategy {
  private RbacStrategy() {}

  static final String GROUP = "rbac.authorization.k8s.io";

  /** Subjects' apiGroup defaults as Kubernetes' SetDefaults_Subject. */
  static void defaultSubjects(ObjectNode binding) {
    for (JsonNode s : binding.path("subjects")) {
      if (s instanceof ObjectNode so && (!so.hasNonNull("apiGroup"))) {
        String kind = so.path("kind").asText("");
        if (kind.equals("User") || kind.equals("Group")) {
          so.put("apiGroup", GROUP);
        } else if (kind.equals("ServiceAccount")) {
          so.put("apiGroup", "");
        }
      }
    }
  }

  static void checkRules(JsonNode rules, boolean namespaced, List<Cause> causes) {
    if (!rules.isMissingNode() && !rules.isNull() && !rules.isArray()) {
      causes.add(Validation.invalid("rules", rules, "must be a list of policy rules"));
      return;
    }
    for (int i = 0; i < rules.size(); i++) {
      checkRule(rules.get(i), namespaced, "rules[" + i + "]", causes);
    }
  }

  private static void checkRule(JsonNode r, boolean namespaced, String at, List<Cause> causes) {
    for (String list : List.of("verbs", "apiGroups", "resources", "resourceNames")) {
      JsonNode v = r.path(list);
      if (!v.isMissingNode() && !v.isNull() && !isStringList(v)) {
        causes.add(Validation.invalid(at + "." + list, v, "must be a list of strings"));
        return;
      }
    }
    if (r.path("verbs").isEmpty()) {
      causes.add(Validation.required(at + ".verbs"));
    }
    JsonNode urls = r.path("nonResourceURLs");
    if (!urls.isEmpty()) {
      if (!isStringList(urls)) {
        causes.add(Validation.invalid(at + ".nonResourceURLs", urls, "must be a list of strings"));
        return;
      }
      if (namespaced) {
        causes.add(
            Validation.invalid(
                at + ".nonResourceURLs",
                urls,
                "namespaced rules cannot apply to non-resource URLs"));
      }
      if (!r.path("apiGroups").isEmpty() || !r.path("resources").isEmpty()) {
        causes.add(
            Validation.invalid(
                at + ".nonResourceURLs",
                urls,
                "rules cannot apply to both regular resources and non-resource URLs"));
      }
      return;
    }
    if (r.path("apiGroups").isEmpty()) {
      causes.add(
          new Cause(
              "FieldValueRequired",
              at + ".apiGroups",
              "Required value: resource rules must supply at least one api group"));
    }
    if (r.path("resources").isEmpty()) {
      causes.add(
          new Cause(
              "FieldValueRequired",
              at + ".resources",
              "Required value: resource rules must supply at least one resource"));
    }
  }

  private static boolean isStringList(JsonNode v) {
    if (!v.isArray()) {
      return false;
    }
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        return false;
      }
    }
    return true;
  }

  static void checkBinding(ObjectNode b, ObjectNode old, boolean namespaced, List<Cause> causes) {
    JsonNode ref = b.path("roleRef");
    if (old != null && !old.path("roleRef").equals(ref)) {
      causes.add(Validation.invalid("roleRef", ref, "cannot change roleRef"));
      return;
    }
    String refGroup = ref.path("apiGroup").asText("");
    if (!refGroup.equals(GROUP)) {
      causes.add(
          new Cause(
              "FieldValueNotSupported",
              "roleRef.apiGroup",
              "Unsupported value: \"" + refGroup + "\": supported values: \"" + GROUP + "\""));
    }
    String refKind = ref.path("kind").asText("");
    List<String> kinds = namespaced ? List.of("Role", "ClusterRole") : List.of("ClusterRole");
    if (!kinds.contains(refKind)) {
      causes.add(
          new Cause(
              "FieldValueNotSupported",
              "roleRef.kind",
              "Unsupported value: \""
                  + refKind
                  + "\": supported values: "
                  + String.join(", ", kinds.stream().map(k -> "\"" + k + "\"").toList())));
    }
    String refName = ref.path("name").asText("");
    if (refName.isEmpty()) {
      causes.add(Validation.required("roleRef.name"));
    } else {
      for (String e : Validation.checkName(refName, NameRule.PATH_SEGMENT)) {
        causes.add(Validation.invalid("roleRef.name", refName, e));
      }
    }
    JsonNode subjects = b.path("subjects");
    for (int i = 0; i < subjects.size(); i++) {
      checkSubject(subjects.get(i), namespaced, "subjects[" + i + "]", causes);
    }
  }

  private static void checkSubject(JsonNode s, boolean namespaced, String at, List<Cause> causes) {
    String name = s.path("name").asText("");
    if (name.isEmpty()) {
      causes.add(Validation.required(at + ".name"));
    }
    String kind = s.path("kind").asText("");
    String group = s.path("apiGroup").asText("");
    switch (kind) {
      case "ServiceAccount" -> {
        if (!name.isEmpty()) {
          for (String e : Validation.checkName(name, NameRule.SUBDOMAIN)) {
            causes.add(Validation.invalid(at + ".name", name, e));
          }
        }
        if (!group.isEmpty()) {
          causes.add(
              new Cause(
                  "FieldValueNotSupported",
                  at + ".apiGroup",
                  "Unsupported value: \"" + group + "\": supported values: \"\""));
        }
        if (!namespaced && s.path("namespace").asText("").isEmpty()) {
          causes.add(Validation.required(at + ".namespace"));
        }
      }
      case "User", "Group" -> {
        if (!group.equals(GROUP)) {
          causes.add(
              new Cause(
                  "FieldValueNotSupported",
                  at + ".apiGroup",
                  "Unsupported value: \"" + group + "\": supported values: \"" + GROUP + "\""));
        }
      }
      default ->
          causes.add(
              new Cause(
                  "FieldValueNotSupported",
                  at + ".kind",
                  "Unsupported value: \""
                      + kind
                      + "\": supported values: \"ServiceAccount\", \"User\", \"Group\""));
    }
  }
}

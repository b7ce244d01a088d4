package dev.kubelite.apiserver.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.ApiException.Cause;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.api.LabelSelector;
import dev.kubelite.apiserver.api.Validation;
import dev.kubelite.apiserver.api.Validation.NameRule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What differs per kind: defaults applied on create, which fields a write may change, and
 * validation. Mirrors the strategies of Kubernetes' registry (pkg/registry/...) for the fields we
 * serve; everything else in an object is stored as sent.
 */
final class Strategy {
  private Strategy() {}

  static NameRule nameRule(ResourceType t) {
    return switch (t.kind()) {
      case "Namespace" -> NameRule.LABEL;
      case "Service" -> NameRule.DNS1035;
      case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding" -> NameRule.PATH_SEGMENT;
      default -> NameRule.SUBDOMAIN;
    };
  }

  /** Defaults and reset status on create, as Kubernetes' PrepareForCreate + defaulting do. */
  static void prepareForCreate(ResourceType t, ObjectNode obj) {
    switch (t.kind()) {
      case "Namespace" -> {
        ObjectNode spec = Json.child(obj, "spec");
        if (!spec.has("finalizers")) {
          spec.putArray("finalizers").add("kubernetes");
        }
        obj.putObject("status").put("phase", "Active");
        Json.child(Json.child(obj, "metadata"), "labels")
            .put("kubernetes.io/metadata.name", Json.text(obj, "metadata", "name"));
      }
      case "Pod" -> {
        ObjectNode spec = Json.child(obj, "spec");
        defaultPodSpec(spec);
        syncServiceAccountFields(spec);
        // The ServiceAccount admission plugin's default: a pod that names no account runs as the
        // namespace's "default" one (the service account controller keeps it in every namespace).
        String account = Json.text(spec, "serviceAccountName");
        if (account == null || account.isEmpty()) {
          spec.put("serviceAccountName", "default");
          spec.put("serviceAccount", "default");
        }
        ObjectNode status = obj.putObject("status");
        status.put("phase", "Pending");
        status.put("qosClass", "BestEffort");
      }
      case "Deployment" -> {
        defaultDeploymentSpec(Json.child(obj, "spec"));
        obj.putObject("status");
      }
      case "ReplicaSet" -> {
        ObjectNode spec = Json.child(obj, "spec");
        defaultReplicas(spec);
        defaultTemplate(spec);
        obj.putObject("status").put("replicas", 0);
      }
      case "Service" -> {
        ObjectNode spec = Json.child(obj, "spec");
        if (!spec.has("type")) {
          spec.put("type", "ClusterIP");
        }
        if (!spec.has("sessionAffinity")) {
          spec.put("sessionAffinity", "None");
        }
        if (spec.get("ports") instanceof ArrayNode ports) {
          for (JsonNode p : ports) {
            if (p instanceof ObjectNode po) {
              if (!po.has("protocol")) {
                po.put("protocol", "TCP");
              }
              if (!po.has("targetPort") && po.has("port")) {
                po.set("targetPort", po.get("port"));
              }
            }
          }
        }
        obj.putObject("status").putObject("loadBalancer");
      }
      case "Secret" -> {
        if (!obj.has("type")) {
          obj.put("type", "Opaque");
        }
        mergeStringData(obj);
      }
      case "RoleBinding", "ClusterRoleBinding" -> RbacStrategy.defaultSubjects(obj);
      default -> {}
    }
  }

  /**
   * A Secret's {@code stringData} is write-only, as in Kubernetes: each entry goes into {@code
   * data} base64-encoded (winning over a {@code data} entry of the same key) and the field is not
   * stored.
   */
  static void mergeStringData(ObjectNode secret) {
    if (!(secret.remove("stringData") instanceof ObjectNode strings)) {
      return;
    }
    ObjectNode data = Json.child(secret, "data");
    strings
        .fields()
        .forEachRemaining(
            e ->
                data.put(
                    e.getKey(),
                    java.util.Base64.getEncoder()
                        .encodeToString(
                            e.getValue()
                                .asText()
                                .getBytes(java.nio.charset.StandardCharsets.UTF_8))));
  }

  /**
   * Defaults on update (PUT or PATCH of the main resource), as Kubernetes defaults every object it
   * decodes: a pod template changed by a patch gets the same defaults as one sent on create, so
   * controllers comparing templates (the Deployment controller's pod-template-hash) see one form.
   */
  static void defaultOnUpdate(ResourceType t, ObjectNode obj) {
    if (t.kind().equals("Secret")) {
      mergeStringData(obj);
    }
    if (t.kind().endsWith("RoleBinding")) {
      RbacStrategy.defaultSubjects(obj);
    }
    if (!(obj.get("spec") instanceof ObjectNode spec)) {
      return;
    }
    switch (t.kind()) {
      case "Pod" -> {
        defaultPodSpec(spec);
        syncServiceAccountFields(spec);
      }
      case "Deployment" -> defaultDeploymentSpec(spec);
      case "ReplicaSet" -> {
        defaultReplicas(spec);
        defaultTemplate(spec);
      }
      default -> {}
    }
  }

  private static void defaultDeploymentSpec(ObjectNode spec) {
    defaultReplicas(spec);
    ObjectNode strategy =
        spec.get("strategy") instanceof ObjectNode s ? s : spec.putObject("strategy");
    if (!strategy.hasNonNull("type") || strategy.get("type").asText().isEmpty()) {
      strategy.put("type", "RollingUpdate");
    }
    if ("RollingUpdate".equals(strategy.get("type").asText())) {
      ObjectNode ru =
          strategy.get("rollingUpdate") instanceof ObjectNode r
              ? r
              : strategy.putObject("rollingUpdate");
      if (!ru.hasNonNull("maxUnavailable")) {
        ru.put("maxUnavailable", "25%");
      }
      if (!ru.hasNonNull("maxSurge")) {
        ru.put("maxSurge", "25%");
      }
    }
    if (!spec.hasNonNull("revisionHistoryLimit")) {
      spec.put("revisionHistoryLimit", 10);
    }
    if (!spec.hasNonNull("progressDeadlineSeconds")) {
      spec.put("progressDeadlineSeconds", 600);
    }
    defaultTemplate(spec);
  }

  /**
   * {@code serviceAccount} is the deprecated name of {@code serviceAccountName}; Kubernetes reads
   * either and writes both, equal.
   */
  private static void syncServiceAccountFields(ObjectNode spec) {
    String name = Json.text(spec, "serviceAccountName");
    if (name == null || name.isEmpty()) {
      name = Json.text(spec, "serviceAccount");
    }
    if (name != null && !name.isEmpty()) {
      spec.put("serviceAccountName", name);
      spec.put("serviceAccount", name);
    }
  }

  private static void defaultReplicas(ObjectNode spec) {
    if (!spec.has("replicas") || spec.get("replicas").isNull()) {
      spec.put("replicas", 1);
    }
  }

  private static void defaultTemplate(ObjectNode spec) {
    if (spec.get("template") instanceof ObjectNode tmpl
        && tmpl.get("spec") instanceof ObjectNode podSpec) {
      defaultPodSpec(podSpec);
    }
  }

  static void defaultPodSpec(ObjectNode spec) {
    putIfAbsent(spec, "restartPolicy", "Always");
    if (!spec.has("terminationGracePeriodSeconds")) {
      spec.put("terminationGracePeriodSeconds", 30);
    }
    putIfAbsent(spec, "dnsPolicy", "ClusterFirst");
    putIfAbsent(spec, "schedulerName", "default-scheduler");
    if (!spec.has("securityContext")) {
      spec.putObject("securityContext");
    }
    for (String list : List.of("containers", "initContainers")) {
      if (spec.get(list) instanceof ArrayNode cs) {
        for (JsonNode c : cs) {
          if (c instanceof ObjectNode co) {
            putIfAbsent(co, "terminationMessagePath", "/dev/termination-log");
            putIfAbsent(co, "terminationMessagePolicy", "File");
            String image = Json.text(co, "image");
            if (!co.has("imagePullPolicy") && image != null) {
              String last = image.substring(image.lastIndexOf('/') + 1);
              boolean latest = !last.contains(":") || image.endsWith(":latest");
              co.put("imagePullPolicy", latest && !image.contains("@") ? "Always" : "IfNotPresent");
            }
            if (!co.has("resources")) {
              co.putObject("resources");
            }
            if (co.get("ports") instanceof ArrayNode ports) {
              for (JsonNode p : ports) {
                if (p instanceof ObjectNode po && !po.has("protocol")) {
                  po.put("protocol", "TCP");
                }
              }
            }
          }
        }
      }
    }
  }

  private static void putIfAbsent(ObjectNode o, String field, String value) {
    if (!o.has(field) || o.get(field).isNull()) {
      o.put(field, value);
    }
  }

  /** Validation on create and update (422 Invalid with causes). */
  static void validate(ResourceType t, ObjectNode obj, ObjectNode old) {
    List<Cause> causes = new ArrayList<>();
    Validation.checkMeta(obj, nameRule(t), causes);
    switch (t.kind()) {
      case "Pod" -> {
        checkPodSpec(obj.get("spec"), "spec", causes);
        if (old != null) {
          checkPodUpdate(old, obj, causes);
        }
      }
      case "Deployment", "ReplicaSet" -> {
        checkWorkload(obj, causes);
        if (old != null) {
          JsonNode was = old.path("spec").path("selector");
          JsonNode now = obj.path("spec").path("selector");
          if (!was.equals(now)) {
            causes.add(Validation.invalid("spec.selector", now, "field is immutable"));
          }
        }
      }
      case "Service" -> {
        checkService(obj.path("spec"), causes);
        if (old != null) {
          ServiceAllocations.checkUpdate(old, obj, causes);
        }
      }
      case "ConfigMap" -> {
        Validation.checkConfigKeys(obj, "data", causes);
        Validation.checkConfigKeys(obj, "binaryData", causes);
      }
      case "Secret" -> {
        Validation.checkConfigKeys(obj, "data", causes);
        if (old != null && !obj.path("type").equals(old.path("type"))) {
          causes.add(Validation.invalid("type", obj.path("type"), "field is immutable"));
        }
      }
      case "Role", "ClusterRole" ->
          RbacStrategy.checkRules(obj.path("rules"), t.kind().equals("Role"), causes);
      case "RoleBinding", "ClusterRoleBinding" ->
          RbacStrategy.checkBinding(obj, old, t.kind().equals("RoleBinding"), causes);
      default -> {}
    }
    if (!causes.isEmpty()) {
      throw ApiException.invalid(t.group(), t.kind(), Json.text(obj, "metadata", "name"), causes);
    }
  }

  private static final List<String> SERVICE_TYPES =
      List.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName");
  private static final List<String> PROTOCOLS = List.of("TCP", "UDP", "SCTP");

  /** The parts of Kubernetes' service validation that matter without a proxy. */
  private static void checkService(JsonNode spec, List<Cause> causes) {
    String type = spec.path("type").asText("ClusterIP");
    if (!SERVICE_TYPES.contains(type)) {
      causes.add(
          new Cause(
              "FieldValueNotSupported",
              "spec.type",
              "Unsupported value: \""
                  + type
                  + "\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\","
                  + " \"NodePort\""));
    }
    if (type.equals("ExternalName")) {
      if (spec.path("externalName").asText("").isEmpty()) {
        causes.add(Validation.required("spec.externalName"));
      }
      return;
    }
    JsonNode ports = spec.path("ports");
    boolean headless = "None".equals(spec.path("clusterIP").asText());
    if (ports.isEmpty() && !headless) {
      causes.add(Validation.required("spec.ports"));
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < ports.size(); i++) {
      JsonNode p = ports.get(i);
      String at = "spec.ports[" + i + "]";
      int port = p.path("port").asInt(0);
      if (!p.path("port").canConvertToInt() || port < 1 || port > 65535) {
        causes.add(
            p.has("port")
                ? Validation.invalid(
                    at + ".port", p.path("port"), "must be between 1 and 65535, inclusive")
                : Validation.required(at + ".port"));
      }
      String protocol = p.path("protocol").asText("TCP");
      if (!PROTOCOLS.contains(protocol)) {
        causes.add(
            new Cause(
                "FieldValueNotSupported",
                at + ".protocol",
                "Unsupported value: \""
                    + protocol
                    + "\": supported values: \"SCTP\", \"TCP\", \"UDP\""));
      }
      String name = p.path("name").asText("");
      if (ports.size() > 1 && name.isEmpty()) {
        causes.add(Validation.required(at + ".name"));
      } else if (!name.isEmpty() && names.contains(name)) {
        causes.add(
            new Cause("FieldValueDuplicate", at + ".name", "Duplicate value: \"" + name + "\""));
      }
      names.add(name);
    }
  }

  private static void checkPodSpec(JsonNode spec, String path, List<Cause> causes) {
    JsonNode containers = spec == null ? null : spec.get("containers");
    if (containers == null || !containers.isArray() || containers.isEmpty()) {
      causes.add(Validation.required(path + ".containers"));
      return;
    }
    for (int i = 0; i < containers.size(); i++) {
      JsonNode c = containers.get(i);
      String p = path + ".containers[" + i + "]";
      String name = Json.text(c, "name");
      if (name == null || name.isEmpty()) {
        causes.add(Validation.required(p + ".name"));
      } else {
        for (String e : Validation.checkName(name, NameRule.LABEL)) {
          causes.add(Validation.invalid(p + ".name", name, e));
        }
      }
      String image = Json.text(c, "image");
      if (image == null || image.isBlank()) {
        causes.add(Validation.required(p + ".image"));
      }
    }
  }

  /** Kubernetes lets an update of a pod's spec change only container images (and a few more). */
  private static void checkPodUpdate(ObjectNode old, ObjectNode obj, List<Cause> causes) {
    JsonNode oldSpec = old.path("spec").deepCopy();
    JsonNode newSpec = obj.path("spec").deepCopy();
    if (oldSpec instanceof ObjectNode os && newSpec instanceof ObjectNode ns) {
      stripImages(os);
      stripImages(ns);
      for (String mutable : List.of("activeDeadlineSeconds", "tolerations")) {
        os.remove(mutable);
        ns.remove(mutable);
      }
      if (!os.equals(ns)) {
        causes.add(
            Validation.forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,"
                    + "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                    + "`spec.tolerations` (only additions to existing tolerations)"));
      }
    }
  }

  private static void stripImages(ObjectNode spec) {
    for (String list : List.of("containers", "initContainers")) {
      if (spec.get(list) instanceof ArrayNode cs) {
        for (JsonNode c : cs) {
          if (c instanceof ObjectNode co) {
            co.remove("image");
          }
        }
      }
    }
  }

  private static void checkWorkload(ObjectNode obj, List<Cause> causes) {
    JsonNode spec = obj.get("spec");
    if (spec == null || !spec.isObject()) {
      causes.add(Validation.required("spec.selector"));
      causes.add(Validation.required("spec.template"));
      return;
    }
    JsonNode replicas = spec.get("replicas");
    if (replicas != null && (!replicas.canConvertToInt() || replicas.asInt() < 0)) {
      causes.add(
          Validation.invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
    }
    JsonNode selector = spec.get("selector");
    LabelSelector sel = null;
    if (selector == null || selector.isNull() || selector.isEmpty()) {
      causes.add(Validation.required("spec.selector"));
    } else {
      try {
        sel = LabelSelector.fromJson(selector);
      } catch (ApiException e) {
        causes.add(Validation.invalid("spec.selector", selector, e.getMessage()));
      }
    }
    JsonNode template = spec.get("template");
    if (template == null || !template.isObject()) {
      causes.add(Validation.required("spec.template"));
      return;
    }
    JsonNode labels = template.path("metadata").path("labels");
    if (sel != null && !sel.matches(labelsOf(labels))) {
      causes.add(
          Validation.invalid(
              "spec.template.metadata.labels",
              labels.isMissingNode() ? Json.object() : labels,
              "`selector` does not match template `labels`"));
    }
    checkPodSpec(template.get("spec"), "spec.template.spec", causes);
  }

  static Map<String, String> labelsOf(JsonNode labels) {
    return LabelSelector.labelsOf(labels);
  }
}

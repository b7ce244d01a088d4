package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes the protobuf request bodies that kubectl 1.32's typed commands ({@code create namespace |
 * configmap | secret | serviceaccount | deployment | service | role | clusterrole | rolebinding |
 * clusterrolebinding}, and {@code drain}'s pod deletions) send: the {@code k8s\0} magic, a {@code
 * runtime.Unknown} envelope, and the object in Kubernetes' generated.proto encoding. A small schema
 * per kind maps field numbers to JSON names; zero values of non-pointer fields are dropped, as
 * JSON's omitempty would. A field the schema does not know fails the request with 415 (never
 * silently dropped).
 */
public final class ProtobufBody {
  private ProtobufBody() {}

  /** The media type of Kubernetes' protobuf encoding. */
  public static final String CONTENT_TYPE = "application/vnd.kubernetes.protobuf";

  private static final byte[] MAGIC = {0x6b, 0x38, 0x73, 0x00};

  private enum T {
    STRING,
    BYTES,
    INT,
    BOOL,
    MESSAGE,
    STRING_MAP,
    BYTES_MAP,
    QUANTITY_MAP,
    TIME,
    INT_OR_STRING,
    QUANTITY
  }

  private record F(String name, T type, String message, boolean repeated, boolean pointer) {}

  /** message name -> field number -> field. {@code *} marks messages whose unknowns are skipped. */
  private static final Map<String, Map<Integer, F>> SCHEMA = new HashMap<>();

  /**
   * Declares a message: each field as {@code "<number> <jsonName> <type>"}; types: string, bytes,
   * int, bool, map (string values), bmap (bytes values), qmap (Quantity values), time, intstr, or a
   * message name; {@code []} = repeated, {@code *} = pointer (its zero value is kept).
   */
  private static void msg(String name, String... fieldSpecs) {
    Map<Integer, F> fields = new HashMap<>();
    for (String spec : fieldSpecs) {
      String[] p = spec.split(" ");
      int n = Integer.parseInt(p[0]);
      String t = p[2];
      boolean repeated = t.startsWith("[]");
      boolean pointer = t.startsWith("*");
      String base = t.replace("[]", "").replace("*", "");
      T type;
      String message = null;
      switch (base) {
        case "string" -> type = T.STRING;
        case "bytes" -> type = T.BYTES;
        case "int" -> type = T.INT;
        case "bool" -> type = T.BOOL;
        case "map" -> type = T.STRING_MAP;
        case "bmap" -> type = T.BYTES_MAP;
        case "qmap" -> type = T.QUANTITY_MAP;
        case "time" -> type = T.TIME;
        case "intstr" -> type = T.INT_OR_STRING;
        case "quantity" -> type = T.QUANTITY;
        default -> {
          type = T.MESSAGE;
          message = base;
        }
      }
      fields.put(n, new F(p[1], type, message, repeated, pointer));
    }
    SCHEMA.put(name, fields);
  }

  // Field numbers from Kubernetes' generated.proto (k8s.io/api, k8s.io/apimachinery).
  static {
    msg("TypeMeta", "1 apiVersion string", "2 kind string");
    msg(
        "ObjectMeta",
        "1 name string",
        "2 generateName string",
        "3 namespace string",
        "4 selfLink string",
        "5 uid string",
        "6 resourceVersion string",
        "7 generation int",
        "8 creationTimestamp time",
        "9 deletionTimestamp time",
        "10 deletionGracePeriodSeconds *int",
        "11 labels map",
        "12 annotations map",
        "13 ownerReferences []OwnerReference",
        "14 finalizers []string");
    msg(
        "OwnerReference",
        "1 kind string",
        "3 name string",
        "4 uid string",
        "5 apiVersion string",
        "6 controller *bool",
        "7 blockOwnerDeletion *bool");
    msg("Namespace", "1 metadata ObjectMeta", "2 spec NamespaceSpec", "3 status NamespaceStatus");
    msg("NamespaceSpec", "1 finalizers []string");
    msg("NamespaceStatus", "1 phase string");
    msg(
        "ConfigMap",
        "1 metadata ObjectMeta",
        "2 data map",
        "3 binaryData bmap",
        "4 immutable *bool");
    msg(
        "Secret",
        "1 metadata ObjectMeta",
        "2 data bmap",
        "3 type string",
        "4 stringData map",
        "5 immutable *bool");
    msg(
        "ServiceAccount",
        "1 metadata ObjectMeta",
        "2 secrets []ObjectReference",
        "3 imagePullSecrets []LocalObjectReference",
        "4 automountServiceAccountToken *bool");
    msg(
        "ObjectReference",
        "1 kind string",
        "2 namespace string",
        "3 name string",
        "4 uid string",
        "5 apiVersion string",
        "6 resourceVersion string",
        "7 fieldPath string");
    msg("LocalObjectReference", "1 name string");
    msg("Deployment", "1 metadata ObjectMeta", "2 spec DeploymentSpec", "3 status Skipped");
    msg(
        "DeploymentSpec",
        "1 replicas *int",
        "2 selector LabelSelector",
        "3 template PodTemplateSpec",
        "4 strategy DeploymentStrategy",
        "5 minReadySeconds int",
        "6 revisionHistoryLimit *int",
        "7 paused bool",
        "9 progressDeadlineSeconds *int");
    msg("DeploymentStrategy", "1 type string", "2 rollingUpdate RollingUpdateDeployment");
    msg("RollingUpdateDeployment", "1 maxUnavailable intstr", "2 maxSurge intstr");
    msg("LabelSelector", "1 matchLabels map", "2 matchExpressions []LabelSelectorRequirement");
    msg("LabelSelectorRequirement", "1 key string", "2 operator string", "3 values []string");
    msg("PodTemplateSpec", "1 metadata ObjectMeta", "2 spec PodSpec");
    msg(
        "PodSpec",
        "2 containers []Container",
        "3 restartPolicy string",
        "4 terminationGracePeriodSeconds *int",
        "6 dnsPolicy string",
        "7 nodeSelector map",
        "8 serviceAccountName string",
        "9 serviceAccount string",
        "10 nodeName string",
        "11 hostNetwork bool",
        "12 hostPID bool",
        "13 hostIPC bool",
        "15 imagePullSecrets []LocalObjectReference",
        "16 hostname string",
        "17 subdomain string",
        "19 schedulerName string",
        "20 initContainers []Container",
        "24 priorityClassName string");
    msg(
        "Container",
        "1 name string",
        "2 image string",
        "3 command []string",
        "4 args []string",
        "5 workingDir string",
        "6 ports []ContainerPort",
        "7 env []EnvVar",
        "8 resources ResourceRequirements",
        "13 terminationMessagePath string",
        "14 imagePullPolicy string",
        "16 stdin bool",
        "17 stdinOnce bool",
        "18 tty bool",
        "20 terminationMessagePolicy string");
    msg(
        "ContainerPort",
        "1 name string",
        "2 hostPort int",
        "3 containerPort int",
        "4 protocol string",
        "5 hostIP string");
    msg("EnvVar", "1 name string", "2 value string");
    msg("ResourceRequirements", "1 limits qmap", "2 requests qmap");
    msg("Service", "1 metadata ObjectMeta", "2 spec ServiceSpec", "3 status Skipped");
    msg(
        "ServiceSpec",
        "1 ports []ServicePort",
        "2 selector map",
        "3 clusterIP string",
        "4 type string",
        "5 externalIPs []string",
        "7 sessionAffinity string",
        "8 loadBalancerIP string",
        "10 externalName string",
        "11 externalTrafficPolicy string",
        "12 healthCheckNodePort int",
        "13 publishNotReadyAddresses bool",
        "18 clusterIPs []string");
    msg(
        "ServicePort",
        "1 name string",
        "2 protocol string",
        "3 port int",
        "4 targetPort intstr",
        "5 nodePort int");
    // authorization.k8s.io/v1 (kubectl auth can-i).
    msg(
        "SelfSubjectAccessReview",
        "1 metadata ObjectMeta",
        "2 spec SubjectAccessReviewSpec",
        "3 status Skipped");
    msg(
        "SubjectAccessReview",
        "1 metadata ObjectMeta",
        "2 spec SubjectAccessReviewSpec",
        "3 status Skipped");
    msg(
        "SubjectAccessReviewSpec",
        "1 resourceAttributes ResourceAttributes",
        "2 nonResourceAttributes NonResourceAttributes",
        "3 user string",
        "4 groups []string",
        "5 extra Skipped",
        "6 uid string");
    msg(
        "ResourceAttributes",
        "1 namespace string",
        "2 verb string",
        "3 group string",
        "4 version string",
        "5 resource string",
        "6 subresource string",
        "7 name string",
        "8 fieldSelector FieldSelectorAttributes",
        "9 labelSelector Skipped");
    msg("FieldSelectorAttributes", "1 rawSelector string", "2 requirements []Skipped");
    msg(
        "SelfSubjectRulesReview",
        "1 metadata ObjectMeta",
        "2 spec SelfSubjectRulesReviewSpec",
        "3 status Skipped");
    msg("SelfSubjectRulesReviewSpec", "1 namespace string");
    msg("NonResourceAttributes", "1 path string", "2 verb string");
    // Status of a new object is reset by the server on create: its fields are skipped.
    // authentication.k8s.io/v1 (kubectl create token).
    msg("TokenRequest", "1 metadata ObjectMeta", "2 spec TokenRequestSpec", "3 status Skipped");
    msg(
        "TokenRequestSpec",
        "1 audiences []string",
        "3 boundObjectRef BoundObjectReference",
        "4 expirationSeconds *int");
    msg(
        "BoundObjectReference",
        "1 kind string",
        "2 apiVersion string",
        "3 name string",
        "4 uid string");
    msg("Skipped");
    // kubectl drain deletes pods through the typed client, so its DeleteOptions come as protobuf.
    msg(
        "DeleteOptions",
        "1 gracePeriodSeconds *int",
        "2 preconditions Preconditions",
        "3 orphanDependents *bool",
        "4 propagationPolicy *string",
        "5 dryRun []string",
        "6 ignoreStoreReadErrorWithClusterBreakingPotential *bool");
    msg("Preconditions", "1 uid *string", "2 resourceVersion *string");
    // kubectl create role | clusterrole | rolebinding | clusterrolebinding (k8s.io/api/rbac/v1).
    msg("Role", "1 metadata ObjectMeta", "2 rules []PolicyRule");
    msg(
        "ClusterRole",
        "1 metadata ObjectMeta",
        "2 rules []PolicyRule",
        "3 aggregationRule AggregationRule");
    msg("AggregationRule", "1 clusterRoleSelectors []LabelSelector");
    msg(
        "PolicyRule",
        "1 verbs []string",
        "2 apiGroups []string",
        "3 resources []string",
        "4 resourceNames []string",
        "5 nonResourceURLs []string");
    msg("RoleBinding", "1 metadata ObjectMeta", "2 subjects []Subject", "3 roleRef RoleRef");
    msg("ClusterRoleBinding", "1 metadata ObjectMeta", "2 subjects []Subject", "3 roleRef RoleRef");
    msg("Subject", "1 kind string", "2 apiGroup string", "3 name string", "4 namespace string");
    msg("RoleRef", "1 apiGroup string", "2 kind string", "3 name string");
  }

  /** The JSON object the protobuf body of a {@code kind} create encodes. */
  public static ObjectNode decode(byte[] body, String kind) {
    if (!SCHEMA.containsKey(kind)) {
      throw ApiException.unsupportedMediaType(
          "protobuf bodies are decoded for Namespace, ConfigMap, Secret, ServiceAccount, Deployment,"
              + " Service, the RBAC kinds, TokenRequest and DeleteOptions only; send "
              + kind
              + " as application/json");
    }
    if (body.length < 4
        || body[0] != MAGIC[0]
        || body[1] != MAGIC[1]
        || body[2] != MAGIC[2]
        || body[3] != MAGIC[3]) {
      throw ApiException.badRequest("protobuf body does not start with the k8s\\0 magic");
    }
    try {
      CodedInputStream in = CodedInputStream.newInstance(body, 4, body.length - 4);
      String apiVersion = null;
      String objKind = null;
      byte[] raw = null;
      while (!in.isAtEnd()) {
        int tag = in.readTag();
        switch (WireFormat.getTagFieldNumber(tag)) {
          case 1 -> {
            ObjectNode tm = message(in.readBytes().toByteArray(), "TypeMeta");
            apiVersion = Json.text(tm, "apiVersion");
            objKind = Json.text(tm, "kind");
          }
          case 2 -> raw = in.readBytes().toByteArray();
          default -> in.skipField(tag);
        }
      }
      if (raw == null) {
        throw ApiException.badRequest("protobuf envelope has no object (runtime.Unknown.raw)");
      }
      if (objKind != null && !objKind.isEmpty() && !objKind.equals(kind)) {
        throw ApiException.badRequest(
            "the kind in the data ("
                + objKind
                + ") does not match the expected kind ("
                + kind
                + ")");
      }
      ObjectNode obj = Json.object();
      if (apiVersion != null && !apiVersion.isEmpty()) {
        obj.put("apiVersion", apiVersion);
      }
      obj.put("kind", kind);
      obj.setAll(message(raw, kind));
      return obj;
    } catch (IOException e) {
      throw ApiException.badRequest("malformed protobuf body: " + e.getMessage());
    }
  }

  private static ObjectNode message(byte[] bytes, String type) throws IOException {
    Map<Integer, F> fields = SCHEMA.get(type);
    boolean skipUnknown = type.equals("Skipped");
    ObjectNode out = Json.object();
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      int number = WireFormat.getTagFieldNumber(tag);
      F f = fields.get(number);
      if (f == null) {
        if (skipUnknown) {
          in.skipField(tag);
          continue;
        }
        throw ApiException.unsupportedMediaType(
            "protobuf field "
                + number
                + " of "
                + type
                + " is not understood by kubelite; send this object as application/json");
      }
      JsonNode value = value(in, f, tag);
      if (value == null) {
        continue;
      }
      if (f.repeated()) {
        JsonNode existing = out.get(f.name());
        ArrayNode arr = existing instanceof ArrayNode a ? a : out.putArray(f.name());
        arr.add(value);
      } else if (f.type() == T.STRING_MAP
          || f.type() == T.BYTES_MAP
          || f.type() == T.QUANTITY_MAP) {
        Json.child(out, f.name()).setAll((ObjectNode) value);
      } else {
        out.set(f.name(), value);
      }
    }
    return out;
  }

  private static JsonNode value(CodedInputStream in, F f, int tag) throws IOException {
    ObjectNode holder = Json.object();
    switch (f.type()) {
      case STRING -> {
        String s = in.readString();
        return s.isEmpty() && !f.repeated() && !f.pointer() ? null : holder.textNode(s);
      }
      case BYTES -> {
        return holder.textNode(Base64.getEncoder().encodeToString(in.readBytes().toByteArray()));
      }
      case INT -> {
        long v = in.readInt64();
        return v == 0 && !f.pointer() ? null : holder.numberNode(v);
      }
      case BOOL -> {
        boolean b = in.readBool();
        return !b && !f.pointer() ? null : holder.booleanNode(b);
      }
      case TIME -> {
        CodedInputStream t = CodedInputStream.newInstance(in.readBytes().toByteArray());
        long seconds = 0;
        while (!t.isAtEnd()) {
          int tt = t.readTag();
          if (WireFormat.getTagFieldNumber(tt) == 1) {
            seconds = t.readInt64();
          } else {
            t.skipField(tt);
          }
        }
        return seconds == 0 ? null : holder.textNode(Instant.ofEpochSecond(seconds).toString());
      }
      case QUANTITY -> {
        return holder.textNode(quantity(in.readBytes().toByteArray()));
      }
      case INT_OR_STRING -> {
        CodedInputStream t = CodedInputStream.newInstance(in.readBytes().toByteArray());
        long kind = 0;
        long intVal = 0;
        String strVal = "";
        while (!t.isAtEnd()) {
          int tt = t.readTag();
          switch (WireFormat.getTagFieldNumber(tt)) {
            case 1 -> kind = t.readInt64();
            case 2 -> intVal = t.readInt32();
            case 3 -> strVal = t.readString();
            default -> t.skipField(tt);
          }
        }
        return kind == 1 ? holder.textNode(strVal) : holder.numberNode(intVal);
      }
      case STRING_MAP, BYTES_MAP, QUANTITY_MAP -> {
        CodedInputStream t = CodedInputStream.newInstance(in.readBytes().toByteArray());
        String key = "";
        String val = "";
        while (!t.isAtEnd()) {
          int tt = t.readTag();
          switch (WireFormat.getTagFieldNumber(tt)) {
            case 1 -> key = t.readString();
            case 2 ->
                val =
                    switch (f.type()) {
                      case BYTES_MAP ->
                          Base64.getEncoder().encodeToString(t.readBytes().toByteArray());
                      case QUANTITY_MAP -> quantity(t.readBytes().toByteArray());
                      default -> t.readString();
                    };
            default -> t.skipField(tt);
          }
        }
        ObjectNode entry = Json.object();
        entry.put(key, val);
        return entry;
      }
      case MESSAGE -> {
        ObjectNode m = message(in.readBytes().toByteArray(), f.message());
        return m.isEmpty() && !f.repeated() && !f.pointer() ? emptyAllowed(f) : m;
      }
      default -> throw new IllegalStateException("unhandled type " + f.type() + " tag " + tag);
    }
  }

  /** Empty messages become {} where JSON keeps them (resources: {}), else nothing. */
  private static JsonNode emptyAllowed(F f) {
    return List.of("resources", "strategy").contains(f.name()) ? Json.object() : null;
  }

  private static String quantity(byte[] bytes) throws IOException {
    CodedInputStream t = CodedInputStream.newInstance(bytes);
    String s = "";
    while (!t.isAtEnd()) {
      int tt = t.readTag();
      if (WireFormat.getTagFieldNumber(tt) == 1) {
        s = t.readString();
      } else {
        t.skipField(tt);
      }
    }
    return s;
  }
}

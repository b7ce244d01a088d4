package dev.kubelite.apiserver.openapi;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.FieldSchema;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.patch.StrategicMergePatch;
import dev.kubelite.apiserver.patch.StrategicMergePatch.ListStrategy;
import dev.kubelite.apiserver.registry.ResourceType;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * OpenAPI v3 {@code components.schemas} for the kinds of one group-version, built from the field
 * schema ({@code schema.json}, decision 0023) so that {@code kubectl explain} has something to
 * show. Types get Kubernetes' definition names ({@code io.k8s.api.core.v1.PodSpec}); lists carry
 * the same patch metadata the strategic merge patch uses ({@code x-kubernetes-patch-merge-key},
 * {@code x-kubernetes-list-type}), so the documents never contradict how the server merges.
 */
public final class OpenApiSchemas {
  private static final String REF_PREFIX = "#/components/schemas/";
  private static final String INT_OR_STRING_NAME =
      "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
  private static final String QUANTITY_NAME = "io.k8s.apimachinery.pkg.api.resource.Quantity";
  private static final String INT_OR_STRING = REF_PREFIX + INT_OR_STRING_NAME;
  private static final String QUANTITY = REF_PREFIX + QUANTITY_NAME;

  private final FieldSchema schema;

  /** "Type.field" → the merge strategy of that list field, as the strategic merge patch sees it. */
  private final Map<String, ListStrategy> listStrategies = new HashMap<>();

  public OpenApiSchemas(FieldSchema schema, List<ResourceType> servedTypes) {
    this.schema = schema;
    for (ResourceType t : servedTypes) {
      String type = schema.typeOf(t.apiVersion(), t.kind());
      if (type != null) {
        collectListStrategies(t.kind(), type, "", 0);
      }
    }
  }

  /** The schemas of the kinds of one group-version and of every type they reach; may be empty. */
  public ObjectNode forKinds(List<ResourceType> kindsOfGroupVersion) {
    Map<String, String> reachable = new TreeMap<>(); // definition name → type, sorted for diffs
    Map<String, ResourceType> kindOfType = new HashMap<>();
    for (ResourceType t : kindsOfGroupVersion) {
      String type = schema.typeOf(t.apiVersion(), t.kind());
      if (type != null) {
        kindOfType.put(type, t);
        reach(type, reachable);
      }
    }
    ObjectNode schemas = Json.object();
    if (reachable.isEmpty()) {
      return schemas;
    }
    for (Map.Entry<String, String> e : reachable.entrySet()) {
      schemas.set(e.getKey(), typeSchema(e.getValue(), kindOfType.get(e.getValue())));
    }
    // The two scalar types that are not JSON types: "any" fields and resource quantities.
    ObjectNode intOrString = schemas.putObject(INT_OR_STRING_NAME);
    intOrString.put("description", "An integer or a string (a port number or name, 25%, ...).");
    intOrString.put("x-kubernetes-int-or-string", true);
    ObjectNode quantity = schemas.putObject(QUANTITY_NAME);
    quantity.put("description", "An amount of a resource: 100m or 0.1 CPU, 64Mi of memory, ...");
    ArrayNode oneOf = quantity.putArray("oneOf");
    oneOf.addObject().put("type", "string");
    oneOf.addObject().put("type", "number");
    return schemas;
  }

  private void reach(String type, Map<String, String> reachable) {
    if (reachable.put(schema.definitionName(type), type) != null) {
      return;
    }
    for (String expr : schema.fields(type).values()) {
      String elem = element(expr);
      if (!FieldSchema.isScalar(elem)) {
        reach(elem, reachable);
      }
    }
  }

  private ObjectNode typeSchema(String type, ResourceType kind) {
    ObjectNode s = Json.object();
    String description = schema.description(type);
    if (description != null) {
      s.put("description", description);
    }
    s.put("type", "object");
    ObjectNode props = s.putObject("properties");
    for (Map.Entry<String, String> f : schema.fields(type).entrySet()) {
      ObjectNode p = property(f.getValue());
      if (kind != null) {
        String common = TOP_LEVEL_FIELDS.get(f.getKey());
        if (common != null) {
          p.put("description", common);
        }
      }
      ListStrategy list = listStrategies.get(type + "." + f.getKey());
      if (list != null && f.getValue().startsWith("[]")) {
        listExtensions(p, list);
      }
      props.set(f.getKey(), p);
    }
    if (kind != null) {
      ObjectNode gvk = s.putArray("x-kubernetes-group-version-kind").addObject();
      gvk.put("group", kind.group());
      gvk.put("kind", kind.kind());
      gvk.put("version", kind.version());
    }
    return s;
  }

  /** The schema of one field's type expression. */
  private ObjectNode property(String expr) {
    ObjectNode p = Json.object();
    if (expr.startsWith("[]")) {
      p.put("type", "array");
      p.set("items", property(expr.substring(2)));
    } else if (expr.equals("map[any]")) {
      // Every map of "any" in schema.json is a resource list (limits, capacity, overhead).
      p.put("type", "object");
      p.putObject("additionalProperties").putArray("allOf").addObject().put("$ref", QUANTITY);
    } else if (expr.startsWith("map[")) {
      p.put("type", "object");
      p.set("additionalProperties", property(expr.substring(4, expr.length() - 1)));
    } else {
      switch (expr) {
        case "string", "integer", "number", "boolean" -> p.put("type", expr);
        case "any" -> p.putArray("allOf").addObject().put("$ref", INT_OR_STRING);
        case "object" -> p.put("type", "object");
        default -> p.putArray("allOf").addObject().put("$ref", REF_PREFIX + def(expr));
      }
    }
    return p;
  }

  private String def(String type) {
    return schema.definitionName(type);
  }

  private static void listExtensions(ObjectNode p, ListStrategy list) {
    if (!list.merge()) {
      return; // a list without a strategy is atomic: replaced whole, as in Kubernetes
    }
    p.put("x-kubernetes-patch-strategy", "merge");
    if (list.key() == null) {
      p.put("x-kubernetes-list-type", "set");
    } else {
      p.put("x-kubernetes-patch-merge-key", list.key());
      p.put("x-kubernetes-list-type", "map");
      ArrayNode keys = p.putArray("x-kubernetes-list-map-keys");
      keys.add(list.key());
    }
  }

  /**
   * Walks a kind's types along the paths the strategic merge patch uses ({@code
   * spec.template.spec.containers[]}) and records each list field's strategy there.
   */
  private void collectListStrategies(String kind, String type, String path, int depth) {
    if (depth > 16) {
      return; // schema.json types are not recursive; this only bounds a future mistake
    }
    for (Map.Entry<String, String> f : schema.fields(type).entrySet()) {
      String field = f.getKey();
      String expr = f.getValue();
      String child = path.isEmpty() ? field : path + "." + field;
      if (expr.startsWith("[]")) {
        listStrategies.putIfAbsent(
            type + "." + field, StrategicMergePatch.strategy(kind, path, field));
        child = child + "[]";
      }
      String elem = element(expr);
      if (!FieldSchema.isScalar(elem) && !expr.startsWith("map[")) {
        collectListStrategies(kind, elem, child, depth + 1);
      }
    }
  }

  private static String element(String expr) {
    String t = expr;
    while (t.startsWith("[]") || t.startsWith("map[")) {
      t = t.startsWith("[]") ? t.substring(2) : t.substring(4, t.length() - 1);
    }
    return t;
  }

  /** Fields every kind has; kubectl explain prints these descriptions with the kind. */
  private static final Map<String, String> TOP_LEVEL_FIELDS =
      Map.of(
          "apiVersion",
          "The group and version of the schema this object is written in (e.g. apps/v1).",
          "kind",
          "The type of this object (e.g. Deployment), in CamelCase.",
          "metadata",
          "Name, namespace, labels, annotations and the fields the server maintains"
              + " (uid, resourceVersion, creationTimestamp, ...).",
          "spec",
          "The desired state, written by users and controllers.",
          "status",
          "The observed state, written by the component that acts on the object; read-only to"
              + " most clients.");
}

package dev.kubelite.apiserver.openapi;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.FieldSchema;
import dev.kubelite.apiserver.api.Json;
import dev.kubelite.apiserver.registry.ResourceTable;
import dev.kubelite.apiserver.registry.ResourceType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The OpenAPI v3 documents: {@code /openapi/v3} lists one document per served group-version, and
 * each document has the PUT/PATCH/POST operations of its resources — PATCH declaring the {@code
 * fieldValidation} parameter, so kubectl apply leaves validation to the server (decision 0021) —
 * and the component schemas {@code kubectl explain} reads (decision 0029).
 */
public final class OpenApiDocuments {
  private final ResourceTable table;
  private final OpenApiSchemas schemas;

  /** Per "group/version": the documents are fixed for the life of the server. */
  private final Map<String, ObjectNode> documents = new ConcurrentHashMap<>();

  public OpenApiDocuments(ResourceTable table, FieldSchema schema) {
    this.table = table;
    this.schemas = new OpenApiSchemas(schema, table.all());
  }

  /** /openapi/v3: one path per served group-version. */
  public ObjectNode root() {
    ObjectNode root = Json.object();
    ObjectNode paths = root.putObject("paths");
    for (String[] gv : table.groupVersions()) {
      String p = gv[0].isEmpty() ? "api/" + gv[1] : "apis/" + gv[0] + "/" + gv[1];
      paths.putObject(p).put("serverRelativeURL", "/openapi/v3/" + p);
    }
    return root;
  }

  /** /openapi/v3/{api/v1|apis/g/v}, or null when the group-version is not served. */
  public ObjectNode groupVersion(String group, String version) {
    List<ResourceType> types = table.inGroupVersion(group, version);
    if (types.isEmpty()) {
      return null;
    }
    return documents.computeIfAbsent(group + "/" + version, k -> build(types));
  }

  private ObjectNode build(List<ResourceType> types) {
    ObjectNode doc = Json.object();
    doc.put("openapi", "3.0.0");
    ObjectNode info = doc.putObject("info");
    info.put("title", "Kubernetes");
    info.put("version", "v1.32.0-kubelite");
    ObjectNode paths = doc.putObject("paths");
    for (ResourceType t : types) {
      String base =
          t.groupVersionPath() + (t.namespaced() ? "/namespaces/{namespace}/" : "/") + t.plural();
      ObjectNode item = paths.putObject(base + "/{name}");
      for (String method : List.of("put", "patch")) {
        ObjectNode op = item.putObject(method);
        op.put("operationId", method + t.kind());
        op.set("x-kubernetes-group-version-kind", gvk(t));
        ArrayNode params = op.putArray("parameters");
        for (String p : List.of("dryRun", "fieldManager", "fieldValidation")) {
          queryParameter(params, p);
        }
        // No requestBody on PATCH: kubectl would then build strategic merge patches from these
        // schemas instead of its built-in types, which know every field (decision 0021).
      }
      ObjectNode post = paths.putObject(base).putObject("post");
      post.put("operationId", "create" + t.kind());
      post.set("x-kubernetes-group-version-kind", gvk(t));
      queryParameter(post.putArray("parameters"), "fieldValidation");
    }
    ObjectNode components = schemas.forKinds(types);
    if (!components.isEmpty()) {
      doc.putObject("components").set("schemas", components);
    }
    return doc;
  }

  private static void queryParameter(ArrayNode params, String name) {
    ObjectNode pn = params.addObject();
    pn.put("name", name);
    pn.put("in", "query");
    pn.putObject("schema").put("type", "string");
  }

  private static ObjectNode gvk(ResourceType t) {
    ObjectNode n = Json.object();
    n.put("group", t.group());
    n.put("version", t.version());
    n.put("kind", t.kind());
    return n;
  }
}

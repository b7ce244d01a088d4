package dev.kubelite.apiserver.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.registry.ResourceTable;
import dev.kubelite.apiserver.registry.ResourceType;
import java.util.List;

/**
 * Discovery documents: aggregated ({@code apidiscovery.k8s.io/v2} APIGroupDiscoveryList on {@code
 * /api} and {@code /apis}, recognised by kubectl only through its Content-Type) and legacy
 * (APIVersions, APIGroupList, APIResourceList), plus {@code /version}.
 */
public final class Discovery {
  /** The Content-Type that makes kubectl read /api and /apis as aggregated discovery. */
  public static final String AGGREGATED_V2 =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

  public static final String AGGREGATED_V2BETA1 =
      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

  public static final List<String> VERBS =
      List.of("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch");

  private final ResourceTable table;

  public Discovery(ResourceTable table) {
    this.table = table;
  }

  /** /version: the dispatcher in /usr/bin/kubectl picks its kubectl by {@code minor}. */
  public static ObjectNode version() {
    ObjectNode v = Json.object();
    v.put("major", "1");
    v.put("minor", "32");
    v.put("gitVersion", "v1.32.0-kubelite");
    v.put("gitCommit", "0000000000000000000000000000000000000000");
    v.put("gitTreeState", "clean");
    v.put("buildDate", "2025-01-01T00:00:00Z");
    v.put("goVersion", "java" + Runtime.version().feature());
    v.put("compiler", "javac");
    v.put(
        "platform",
        System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT) + "/" + arch());
    return v;
  }

  private static String arch() {
    String a = System.getProperty("os.arch");
    return a.equals("x86_64") ? "amd64" : a.equals("aarch64") ? "arm64" : a;
  }

  /** Aggregated discovery: /api (core group only) or /apis (every named group). */
  public ObjectNode aggregated(boolean core, String apiVersion) {
    ObjectNode list = Json.object();
    list.put("kind", "APIGroupDiscoveryList");
    list.put("apiVersion", apiVersion);
    list.putObject("metadata");
    ArrayNode items = list.putArray("items");
    for (String[] gv : table.groupVersions()) {
      if (core != gv[0].isEmpty()) {
        continue;
      }
      ObjectNode group = items.addObject();
      group.putObject("metadata").put("name", gv[0]);
      ObjectNode version = group.putArray("versions").addObject();
      version.put("version", gv[1]);
      version.put("freshness", "Current");
      ArrayNode resources = version.putArray("resources");
      for (ResourceType t : table.inGroupVersion(gv[0], gv[1])) {
        ObjectNode r = resources.addObject();
        r.put("resource", t.plural());
        r.set("responseKind", gvk(t.group(), t.version(), t.kind()));
        r.put("scope", t.namespaced() ? "Namespaced" : "Cluster");
        r.put("singularResource", t.singular());
        verbs(r.putArray("verbs"), VERBS);
        if (!t.shortNames().isEmpty()) {
          verbs(r.putArray("shortNames"), t.shortNames());
        }
        if (!t.categories().isEmpty()) {
          verbs(r.putArray("categories"), t.categories());
        }
        ArrayNode subs = r.putArray("subresources");
        for (String sub : List.of("status", "scale", "binding", "log", "finalize", "token")) {
          if (!t.subresources().contains(sub)) {
            continue;
          }
          ObjectNode s = subs.addObject();
          s.put("subresource", sub);
          s.set("responseKind", subresourceKind(t, sub));
          verbs(s.putArray("verbs"), subresourceVerbs(sub));
        }
      }
    }
    return list;
  }

  private static ObjectNode subresourceKind(ResourceType t, String sub) {
    return switch (sub) {
      case "scale" -> gvk("autoscaling", "v1", "Scale");
      case "binding" -> gvk("", "v1", "Binding");
      case "token" -> gvk("authentication.k8s.io", "v1", "TokenRequest");
      default -> gvk(t.group(), t.version(), t.kind());
    };
  }

  private static List<String> subresourceVerbs(String sub) {
    return switch (sub) {
      case "binding", "token" -> List.of("create");
      case "log" -> List.of("get");
      case "finalize" -> List.of("update");
      default -> List.of("get", "patch", "update");
    };
  }

  private static ObjectNode gvk(String g, String v, String k) {
    ObjectNode n = Json.object();
    n.put("group", g);
    n.put("version", v);
    n.put("kind", k);
    return n;
  }

  private static void verbs(ArrayNode a, List<String> values) {
    values.forEach(a::add);
  }

  /** Legacy /api: APIVersions. */
  public ObjectNode apiVersions(String serverAddress) {
    ObjectNode v = Json.object();
    v.put("kind", "APIVersions");
    v.put("apiVersion", "v1");
    v.putArray("versions").add("v1");
    ObjectNode cidr = v.putArray("serverAddressByClientCIDRs").addObject();
    cidr.put("clientCIDR", "0.0.0.0/0");
    cidr.put("serverAddress", serverAddress);
    return v;
  }

  /** Legacy /apis: APIGroupList. */
  public ObjectNode apiGroupList() {
    ObjectNode l = Json.object();
    l.put("kind", "APIGroupList");
    l.put("apiVersion", "v1");
    ArrayNode groups = l.putArray("groups");
    for (String[] gv : table.groupVersions()) {
      if (!gv[0].isEmpty()) {
        groups.add(apiGroup(gv[0], gv[1]));
      }
    }
    return l;
  }

  /** /apis/{group}: APIGroup, or null if the group is not served. */
  public ObjectNode apiGroup(String group) {
    for (String[] gv : table.groupVersions()) {
      if (gv[0].equals(group) && !group.isEmpty()) {
        ObjectNode g = apiGroup(gv[0], gv[1]);
        g.put("kind", "APIGroup");
        g.put("apiVersion", "v1");
        return g;
      }
    }
    return null;
  }

  private static ObjectNode apiGroup(String group, String version) {
    ObjectNode g = Json.object();
    g.put("name", group);
    ObjectNode v = Json.object();
    v.put("groupVersion", group + "/" + version);
    v.put("version", version);
    g.putArray("versions").add(v);
    g.set("preferredVersion", v.deepCopy());
    return g;
  }

  /** Legacy /api/v1 or /apis/{g}/{v}: APIResourceList, or null if not served. */
  public ObjectNode apiResourceList(String group, String version) {
    List<ResourceType> types = table.inGroupVersion(group, version);
    if (types.isEmpty()) {
      return null;
    }
    ObjectNode l = Json.object();
    l.put("kind", "APIResourceList");
    l.put("apiVersion", "v1");
    l.put("groupVersion", group.isEmpty() ? version : group + "/" + version);
    ArrayNode rs = l.putArray("resources");
    for (ResourceType t : types) {
      ObjectNode r = rs.addObject();
      r.put("name", t.plural());
      r.put("singularName", t.singular());
      r.put("namespaced", t.namespaced());
      r.put("kind", t.kind());
      verbs(r.putArray("verbs"), VERBS);
      if (!t.shortNames().isEmpty()) {
        verbs(r.putArray("shortNames"), t.shortNames());
      }
      if (!t.categories().isEmpty()) {
        verbs(r.putArray("categories"), t.categories());
      }
      for (String sub : List.of("status", "scale", "binding", "log", "finalize", "token")) {
        if (!t.subresources().contains(sub)) {
          continue;
        }
        ObjectNode s = rs.addObject();
        s.put("name", t.plural() + "/" + sub);
        s.put("singularName", "");
        s.put("namespaced", t.namespaced());
        ObjectNode kind = subresourceKind(t, sub);
        if (!kind.path("group").asText().equals(t.group())) {
          s.put("group", kind.path("group").asText());
          s.put("version", kind.path("version").asText());
        }
        s.put("kind", kind.path("kind").asText());
        verbs(s.putArray("verbs"), subresourceVerbs(sub));
      }
    }
    return l;
  }
}

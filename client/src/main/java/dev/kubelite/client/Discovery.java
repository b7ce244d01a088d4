package dev.kubelite.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What the API server serves, read from its legacy discovery documents ({@code /api/v1}, {@code
 * /apis}, {@code /apis/<group>/<version>} for each group's preferred version), as client-go's
 * discovery client does for controllers that work on every resource (garbage collector, namespace
 * deletion). Subresources are left out.
 */
public final class Discovery {
  /**
   * One served resource: its REST coordinates, its kind, its verbs and the other names kubectl
   * accepts for it (singular name, short names such as {@code po}).
   */
  public record ApiResource(
      Resource resource,
      String kind,
      Set<String> verbs,
      String singularName,
      List<String> shortNames) {
    // Written out rather than generated (linked through invokedynamic at first use): decision
    // 0082.
    @Override
    public boolean equals(Object o) {
      return o instanceof ApiResource a
          && java.util.Objects.equals(resource, a.resource)
          && java.util.Objects.equals(kind, a.kind)
          && java.util.Objects.equals(verbs, a.verbs)
          && java.util.Objects.equals(singularName, a.singularName)
          && java.util.Objects.equals(shortNames, a.shortNames);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(
          new Object[] {resource, kind, verbs, singularName, shortNames});
    }

    public boolean supports(String... wanted) {
      for (String v : wanted) {
        if (!verbs.contains(v)) {
          return false;
        }
      }
      return true;
    }
  }

  private final List<ApiResource> resources;

  private Discovery(List<ApiResource> resources) {
    this.resources = List.copyOf(resources);
  }

  /** Discovery made of resources read earlier (a client's cache of what the server served). */
  public static Discovery of(List<ApiResource> resources) {
    return new Discovery(resources);
  }

  /** Reads the discovery documents now (one request per group-version). */
  public static Discovery load(KubeClient client) {
    List<ApiResource> all = new ArrayList<>();
    for (JsonNode v : client.getPath("/api").path("versions")) {
      read(client, "", v.asText(), "/api/" + v.asText(), all);
    }
    for (JsonNode g : client.getPath("/apis").path("groups")) {
      String group = g.path("name").asText();
      String version = g.path("preferredVersion").path("version").asText();
      if (version.isEmpty() && g.path("versions").size() > 0) {
        version = g.path("versions").get(0).path("version").asText();
      }
      read(client, group, version, "/apis/" + group + "/" + version, all);
    }
    return new Discovery(all);
  }

  private static void read(
      KubeClient client, String group, String version, String path, List<ApiResource> into) {
    ObjectNode list = client.getPath(path);
    for (JsonNode r : list.path("resources")) {
      String name = r.path("name").asText();
      if (name.isEmpty() || name.contains("/")) {
        continue;
      }
      Set<String> verbs = new HashSet<>();
      r.path("verbs").forEach(x -> verbs.add(x.asText()));
      List<String> shortNames = new ArrayList<>();
      r.path("shortNames").forEach(x -> shortNames.add(x.asText()));
      String singular = r.path("singularName").asText("");
      into.add(
          new ApiResource(
              new Resource(group, version, name, r.path("namespaced").asBoolean()),
              r.path("kind").asText(),
              Set.copyOf(verbs),
              singular.isEmpty() ? r.path("kind").asText().toLowerCase(Locale.ROOT) : singular,
              List.copyOf(shortNames)));
    }
  }

  public List<ApiResource> resources() {
    return resources;
  }

  /** The resource serving {@code kind} in {@code apiVersion} ({@code v1}, {@code apps/v1}). */
  public Optional<ApiResource> forKind(String apiVersion, String kind) {
    for (ApiResource r : resources) {
      if (r.kind().equals(kind) && r.resource().apiVersion().equals(apiVersion)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}

package dev.kubelite.kubectl;

import dev.kubelite.client.Discovery;
import dev.kubelite.client.Discovery.ApiResource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Turns what users type into a served resource, as kubectl's REST mapper does: the plural ({@code
 * pods}), the singular ({@code pod}), a short name ({@code po}), the kind ({@code Pod}), each
 * optionally qualified by group ({@code deployments.apps}) or version and group ({@code
 * deployments.v1.apps}). The legacy core group wins a tie, then the first group served.
 */
public final class ResourceResolver {
  private Discovery discovery;
  private Supplier<Discovery> reload;

  public ResourceResolver(Discovery discovery) {
    this(discovery, null);
  }

  /**
   * @param reload reads discovery afresh when a name is not found in {@code discovery} (a cached
   *     copy), or null when {@code discovery} is fresh
   */
  public ResourceResolver(Discovery discovery, Supplier<Discovery> reload) {
    this.discovery = discovery;
    this.reload = reload;
  }

  public Discovery discovery() {
    return discovery;
  }

  /** The resource for {@code typed}; a {@link CliException} as kubectl's when none matches. */
  public ApiResource resolve(String typed) {
    String t = typed.toLowerCase(Locale.ROOT);
    String name = t;
    String qualifier = null;
    int dot = t.indexOf('.');
    if (dot > 0) {
      name = t.substring(0, dot);
      qualifier = t.substring(dot + 1);
    }
    List<ApiResource> matches = new ArrayList<>();
    for (ApiResource r : discovery.resources()) {
      if (names(r, name) && qualifies(r, qualifier)) {
        matches.add(r);
      }
    }
    if (matches.isEmpty() && reload != null) {
      discovery = reload.get();
      reload = null;
      return resolve(typed);
    }
    if (matches.isEmpty()) {
      throw new CliException("the server doesn't have a resource type \"" + typed + "\"");
    }
    for (ApiResource r : matches) {
      if (r.resource().group().isEmpty()) {
        return r;
      }
    }
    return matches.get(0);
  }

  /** The resource serving a manifest's {@code apiVersion} and {@code kind}. */
  public ApiResource forKind(String apiVersion, String kind) {
    if (discovery.forKind(apiVersion, kind).isEmpty() && reload != null) {
      discovery = reload.get();
      reload = null;
    }
    return discovery
        .forKind(apiVersion, kind)
        .orElseThrow(
            () ->
                new CliException(
                    "resource mapping not found for kind \""
                        + kind
                        + "\" in version \""
                        + apiVersion
                        + "\": ensure the API server serves it (kubectl-lite api-resources)"));
  }

  private static boolean names(ApiResource r, String name) {
    return r.resource().resource().equals(name)
        || r.singularName().equals(name)
        || r.kind().toLowerCase(Locale.ROOT).equals(name)
        || r.shortNames().contains(name);
  }

  private static boolean qualifies(ApiResource r, String qualifier) {
    if (qualifier == null) {
      return true;
    }
    String group = r.resource().group();
    String version = r.resource().version();
    return qualifier.equals(group)
        || qualifier.equals(version) && group.isEmpty()
        || qualifier.equals(version + "." + group);
  }
}

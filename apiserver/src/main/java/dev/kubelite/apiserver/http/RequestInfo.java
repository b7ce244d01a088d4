package dev.kubelite.apiserver.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A resource request's path, parsed as Kubernetes' RequestInfoFactory does: {@code
 * /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}} and {@code /apis/{group}/{version}/...}.
 * {@code namespaces/{name}/status} is the namespace's own status, not a resource named status.
 *
 * @param group API group ("" for /api)
 * @param version API version
 * @param namespace namespace from the path, or null
 * @param resource resource plural, or null for the group-version root
 * @param name object name, or null for the collection
 * @param subresource subresource, or null
 */
public record RequestInfo(
    String group,
    String version,
    String namespace,
    String resource,
    String name,
    String subresource) {

  private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

  /** Parses a path under /api or /apis; null if it is not a resource path. */
  public static RequestInfo parse(String path) {
    List<String> parts = new ArrayList<>();
    for (String p : path.split("/")) {
      if (!p.isEmpty()) {
        parts.add(p);
      }
    }
    String group;
    String version;
    int i;
    if (parts.size() >= 2 && parts.get(0).equals("api")) {
      group = "";
      version = parts.get(1);
      i = 2;
    } else if (parts.size() >= 3 && parts.get(0).equals("apis")) {
      group = parts.get(1);
      version = parts.get(2);
      i = 3;
    } else {
      return null;
    }
    List<String> rest = parts.subList(i, parts.size());
    String namespace = null;
    if (rest.size() >= 2 && rest.get(0).equals("namespaces")) {
      namespace = rest.get(1);
      if (rest.size() > 2 && !NAMESPACE_SUBRESOURCES.contains(rest.get(2))) {
        rest = rest.subList(2, rest.size());
      } else {
        // namespaces/{name}[/status]: the namespace object itself.
        namespace = null;
      }
    }
    if (rest.size() > 3) {
      return null;
    }
    for (String segment : rest) {
      if (segment.equals(".") || segment.equals("..") || segment.contains("%")) {
        return null;
      }
    }
    return new RequestInfo(
        group,
        version,
        namespace,
        rest.isEmpty() ? null : rest.get(0),
        rest.size() > 1 ? rest.get(1) : null,
        rest.size() > 2 ? rest.get(2) : null);
  }
}

package dev.kubelite.apiserver.registry;

import java.util.List;
import java.util.Set;

/**
 * One served resource: where it lives in the REST API, how discovery describes it, and where its
 * objects are stored ({@code /registry/<storagePrefix>/<namespace>/<name>}, or without the
 * namespace for cluster-scoped resources).
 *
 * @param group API group ("" = core)
 * @param version API version
 * @param kind object kind ({@code Pod})
 * @param plural resource name in URLs ({@code pods})
 * @param singular singular name ({@code pod})
 * @param shortNames kubectl short names ({@code po})
 * @param categories discovery categories ({@code all})
 * @param namespaced whether objects live in a namespace
 * @param subresources served subresources ({@code status}, {@code scale}, {@code binding})
 * @param storagePrefix key segment under {@code /registry/}, as real Kubernetes lays it out
 */
public record ResourceType(
    String group,
    String version,
    String kind,
    String plural,
    String singular,
    List<String> shortNames,
    List<String> categories,
    boolean namespaced,
    Set<String> subresources,
    String storagePrefix) {

  public ResourceType {
    shortNames = List.copyOf(shortNames);
    categories = List.copyOf(categories);
    subresources = Set.copyOf(subresources);
  }

  /** {@code v1} or {@code apps/v1}: the apiVersion of its objects. */
  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** {@code /api/v1} or {@code /apis/apps/v1}. */
  public String groupVersionPath() {
    return group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
  }

  public boolean hasStatus() {
    return subresources.contains("status");
  }

  /** {@code pods} or {@code deployments.apps}, as error messages name the resource. */
  public String qualifiedName() {
    return group.isEmpty() ? plural : plural + "." + group;
  }

  /** The key prefix of all its objects: {@code /registry/pods/}. */
  public String keyPrefix() {
    return "/registry/" + storagePrefix + "/";
  }

  /** The key prefix of one namespace's objects, or of all objects when ns is null. */
  public String keyPrefix(String namespace) {
    return namespaced && namespace != null ? keyPrefix() + namespace + "/" : keyPrefix();
  }

  public String key(String namespace, String name) {
    return namespaced ? keyPrefix() + namespace + "/" + name : keyPrefix() + name;
  }
}

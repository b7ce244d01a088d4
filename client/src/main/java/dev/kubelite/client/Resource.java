package dev.kubelite.client;

/**
 * A resource type as the REST paths name it: group ("" for the core group), version, plural
 * resource name, and whether it lives in namespaces.
 */
public record Resource(String group, String version, String resource, boolean namespaced) {
  public static final Resource PODS = new Resource("", "v1", "pods", true);
  public static final Resource NODES = new Resource("", "v1", "nodes", false);
  public static final Resource NAMESPACES = new Resource("", "v1", "namespaces", false);
  public static final Resource CONFIGMAPS = new Resource("", "v1", "configmaps", true);
  public static final Resource EVENTS = new Resource("", "v1", "events", true);
  public static final Resource SERVICES = new Resource("", "v1", "services", true);
  public static final Resource DEPLOYMENTS = new Resource("apps", "v1", "deployments", true);
  public static final Resource REPLICASETS = new Resource("apps", "v1", "replicasets", true);
  public static final Resource LEASES = new Resource("coordination.k8s.io", "v1", "leases", true);

  // equals and hashCode written out: the record's generated ones are linked through
  // invokedynamic at their first use, a cost a short CLI run notices (decision 0082).
  @Override
  public boolean equals(Object o) {
    return o instanceof Resource r
        && namespaced == r.namespaced
        && java.util.Objects.equals(group, r.group)
        && java.util.Objects.equals(version, r.version)
        && java.util.Objects.equals(resource, r.resource);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(group, version, resource, namespaced);
  }

  /** {@code v1} or {@code apps/v1}: the apiVersion of its objects. */
  public String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /**
   * The collection path: {@code /api/v1/namespaces/ns/pods}, or across namespaces (namespace null)
   * {@code /api/v1/pods}.
   */
  public String path(String namespace) {
    StringBuilder b = new StringBuilder(group.isEmpty() ? "/api/" : "/apis/" + group + "/");
    b.append(version);
    if (namespaced && namespace != null) {
      b.append("/namespaces/").append(namespace);
    }
    return b.append('/').append(resource).toString();
  }

  /** The object path; the namespace is required for namespaced resources. */
  public String path(String namespace, String name) {
    if (namespaced && (namespace == null || namespace.isEmpty())) {
      throw new IllegalArgumentException(
          resource + " are namespaced: give the namespace of " + name);
    }
    return path(namespace) + "/" + name;
  }

  @Override
  public String toString() {
    return resource + (group.isEmpty() ? "" : "." + group);
  }
}

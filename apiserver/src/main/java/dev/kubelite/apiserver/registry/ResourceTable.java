package dev.kubelite.apiserver.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Every resource the API server serves, by group/version/plural and by kind. */
public final class ResourceTable {
  private final List<ResourceType> types;
  private final Map<String, ResourceType> byPath = new LinkedHashMap<>();

  public ResourceTable(List<ResourceType> types) {
    this.types = List.copyOf(types);
    for (ResourceType t : types) {
      byPath.put(t.group() + "/" + t.version() + "/" + t.plural(), t);
    }
  }

  /** The built-in table: what real Kubernetes calls these resources and where it stores them. */
  public static ResourceTable builtIn() {
    List<ResourceType> t = new ArrayList<>();
    List<String> all = List.of("all");
    t.add(
        new ResourceType(
            "",
            "v1",
            "Namespace",
            "namespaces",
            "namespace",
            List.of("ns"),
            List.of(),
            false,
            Set.of("status", "finalize"),
            "namespaces"));
    t.add(
        new ResourceType(
            "",
            "v1",
            "Pod",
            "pods",
            "pod",
            List.of("po"),
            all,
            true,
            Set.of("status", "binding", "log"),
            "pods"));
    t.add(
        new ResourceType(
            "",
            "v1",
            "Node",
            "nodes",
            "node",
            List.of("no"),
            List.of(),
            false,
            Set.of("status"),
            "minions"));
    t.add(
        new ResourceType(
            "",
            "v1",
            "Event",
            "events",
            "event",
            List.of("ev"),
            List.of(),
            true,
            Set.of(),
            "events"));
    t.add(
        new ResourceType(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            "configmap",
            List.of("cm"),
            List.of(),
            true,
            Set.of(),
            "configmaps"));
    t.add(
        new ResourceType(
            "", "v1", "Secret", "secrets", "secret", List.of(), List.of(), true, Set.of(),
            "secrets"));
    t.add(
        new ResourceType(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            "serviceaccount",
            List.of("sa"),
            List.of(),
            true,
            Set.of("token"),
            "serviceaccounts"));
    t.add(
        new ResourceType(
            "",
            "v1",
            "Service",
            "services",
            "service",
            List.of("svc"),
            all,
            true,
            Set.of("status"),
            "services/specs"));
    t.add(
        new ResourceType(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            "deployment",
            List.of("deploy"),
            all,
            true,
            Set.of("status", "scale"),
            "deployments"));
    t.add(
        new ResourceType(
            "apps",
            "v1",
            "ReplicaSet",
            "replicasets",
            "replicaset",
            List.of("rs"),
            all,
            true,
            Set.of("status", "scale"),
            "replicasets"));
    t.add(
        new ResourceType(
            "coordination.k8s.io",
            "v1",
            "Lease",
            "leases",
            "lease",
            List.of(),
            List.of(),
            true,
            Set.of(),
            "leases"));
    for (String[] rbac :
        new String[][] {
          {"Role", "roles", "role", "true"},
          {"ClusterRole", "clusterroles", "clusterrole", "false"},
          {"RoleBinding", "rolebindings", "rolebinding", "true"},
          {"ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", "false"}
        }) {
      t.add(
          new ResourceType(
              "rbac.authorization.k8s.io",
              "v1",
              rbac[0],
              rbac[1],
              rbac[2],
              List.of(),
              List.of(),
              Boolean.parseBoolean(rbac[3]),
              Set.of(),
              rbac[1]));
    }
    return new ResourceTable(t);
  }

  public List<ResourceType> all() {
    return types;
  }

  public Optional<ResourceType> find(String group, String version, String plural) {
    return Optional.ofNullable(byPath.get(group + "/" + version + "/" + plural));
  }

  /** Served group versions in order: {@code ""/v1} first, then named groups. */
  public List<String[]> groupVersions() {
    List<String[]> out = new ArrayList<>();
    for (ResourceType t : types) {
      if (out.stream().noneMatch(gv -> gv[0].equals(t.group()) && gv[1].equals(t.version()))) {
        out.add(new String[] {t.group(), t.version()});
      }
    }
    return out;
  }

  public List<ResourceType> inGroupVersion(String group, String version) {
    return types.stream()
        .filter(t -> t.group().equals(group) && t.version().equals(version))
        .toList();
  }

  public ResourceType byKind(String group, String kind) {
    return types.stream()
        .filter(t -> t.group().equals(group) && t.kind().equals(kind))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no resource of kind " + kind));
  }
}

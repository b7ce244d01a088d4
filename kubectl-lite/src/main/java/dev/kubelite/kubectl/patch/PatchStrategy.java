package dev.kubelite.kubectl.patch;

/**
 * How a strategic merge patch treats a field of a built-in kind, following the {@code
 * patchStrategy}/{@code patchMergeKey} tags of the Kubernetes API types: lists merged element by
 * element on a key (containers by name, container ports by containerPort, ...), lists of primitives
 * merged as sets (metadata.finalizers), other lists replaced; maps with {@code retainKeys} (a
 * Deployment's strategy) drop the keys the patch does not name.
 *
 * <p>This is the client's copy of what the API server's strategic merge patch uses to apply the
 * patch ({@code apiserver/.../patch/StrategicMergePatch}); the two must agree, so a change there
 * belongs here too (kubectl-lite talks to the server only over HTTP and does not link it).
 */
public record PatchStrategy(Kind kind, String key) {
  /** What a list (or a map with {@code retainKeys}) does under a strategic merge patch. */
  public enum Kind {
    REPLACE,
    MERGE_BY_KEY,
    MERGE_PRIMITIVES
  }

  public static final PatchStrategy REPLACE = new PatchStrategy(Kind.REPLACE, null);
  public static final PatchStrategy PRIMITIVES = new PatchStrategy(Kind.MERGE_PRIMITIVES, null);

  private static PatchStrategy key(String key) {
    return new PatchStrategy(Kind.MERGE_BY_KEY, key);
  }

  /**
   * The strategy of list field {@code field} in the map at {@code path} (dotted, list elements as
   * {@code []}: {@code spec.template.spec.containers[]}) of an object of {@code kind}.
   */
  public static PatchStrategy forList(String kind, String path, String field) {
    return switch (field) {
      case "containers",
          "initContainers",
          "ephemeralContainers",
          "env",
          "volumes",
          "imagePullSecrets",
          "resourceClaims",
          "secrets" ->
          key("name");
      case "volumeMounts" -> key("mountPath");
      case "volumeDevices" -> key("devicePath");
      case "conditions", "addresses" -> key("type");
      case "hostAliases", "podIPs", "hostIPs" -> key("ip");
      case "ownerReferences" -> key("uid");
      case "topologySpreadConstraints" -> key("topologyKey");
      case "finalizers" -> path.equals("metadata") ? PRIMITIVES : REPLACE;
      case "ports" ->
          kind.equals("Service") && path.equals("spec")
              ? key("port")
              : path.endsWith("containers[]") || path.endsWith("initContainers[]")
                  ? key("containerPort")
                  : REPLACE;
      default -> REPLACE;
    };
  }

  /**
   * Whether the map at {@code path} has {@code patchStrategy:"retainKeys"}: a Deployment's {@code
   * spec.strategy}, a DaemonSet's or StatefulSet's {@code spec.updateStrategy}. A patch of such a
   * map lists the keys to keep, so that switching {@code type} drops the old type's settings.
   */
  public static boolean retainKeys(String kind, String path) {
    return switch (kind) {
      case "Deployment" -> path.equals("spec.strategy");
      case "DaemonSet", "StatefulSet" -> path.equals("spec.updateStrategy");
      default -> false;
    };
  }
}

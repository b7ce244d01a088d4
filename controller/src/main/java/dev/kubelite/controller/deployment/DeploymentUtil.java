package dev.kubelite.controller.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.controller.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arithmetic of Deployments, as Kubernetes' deployment util package defines it: maxSurge and
 * maxUnavailable from integers or percentages, the pod-template hash, template equality ignoring
 * the hash label, revision and replica annotations, and status conditions.
 */
final class DeploymentUtil {
  private DeploymentUtil() {}

  static final String HASH_LABEL = "pod-template-hash";
  static final String REVISION = "deployment.kubernetes.io/revision";
  static final String DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
  static final String MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";
  static final String REVISION_HISTORY = "deployment.kubernetes.io/revision-history";

  /** Annotations of a Deployment that are not copied to its ReplicaSets. */
  static final Set<String> SKIP_COPY =
      Set.of(
          "kubectl.kubernetes.io/last-applied-configuration",
          REVISION,
          REVISION_HISTORY,
          DESIRED_REPLICAS,
          MAX_REPLICAS,
          "deprecated.deployment.rollback.to");

  /** Kubernetes' value for "no progress deadline" (math.MaxInt32). */
  static final long NO_DEADLINE = Integer.MAX_VALUE;

  // ---------------------------------------------------------------------------- surge /
  // unavailable

  /**
   * An IntOrString against {@code total}: an integer as is, {@code "N%"} as N percent of total,
   * rounded up or down (Kubernetes' GetScaledValueFromIntOrPercent).
   */
  static int scaled(JsonNode v, int total, boolean roundUp) {
    if (v == null || v.isMissingNode() || v.isNull()) {
      return scaled(KubeClient.JSON.getNodeFactory().textNode("25%"), total, roundUp);
    }
    if (v.isIntegralNumber()) {
      return v.asInt();
    }
    String s = v.asText().trim();
    if (s.endsWith("%")) {
      int pct;
      try {
        pct = Integer.parseInt(s.substring(0, s.length() - 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "invalid value for IntOrString: invalid value \"" + s + "\"");
      }
      double x = (double) pct * total / 100.0;
      return (int) (roundUp ? Math.ceil(x) : Math.floor(x));
    }
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "invalid value for IntOrString: invalid type: string is not a percentage");
    }
  }

  static boolean isRollingUpdate(JsonNode d) {
    return !"Recreate".equals(d.path("spec").path("strategy").path("type").asText("RollingUpdate"));
  }

  static int replicas(JsonNode obj) {
    return obj.path("spec").path("replicas").asInt(1);
  }

  /** {maxSurge, maxUnavailable}; both zero is not allowed, so maxUnavailable becomes 1. */
  static int[] fenceposts(JsonNode d, int desired) {
    JsonNode ru = d.path("spec").path("strategy").path("rollingUpdate");
    int surge = scaled(ru.get("maxSurge"), desired, true);
    int unavailable = scaled(ru.get("maxUnavailable"), desired, false);
    if (surge == 0 && unavailable == 0) {
      unavailable = 1;
    }
    return new int[] {surge, unavailable};
  }

  static int maxSurge(JsonNode d) {
    if (!isRollingUpdate(d)) {
      return 0;
    }
    return fenceposts(d, replicas(d))[0];
  }

  static int maxUnavailable(JsonNode d) {
    int replicas = replicas(d);
    if (!isRollingUpdate(d) || replicas == 0) {
      return 0;
    }
    return Math.min(fenceposts(d, replicas)[1], replicas);
  }

  // ---------------------------------------------------------------------------- templates and hash

  /**
   * A pod template as compared and hashed: without the {@code pod-template-hash} label, without
   * null, empty-object and empty-list values (so the forms a Go client writes back, such as {@code
   * creationTimestamp: null} or {@code resources: {}}, equal what was stored), keys sorted.
   */
  static JsonNode normalizedTemplate(JsonNode template) {
    JsonNode copy = template.deepCopy();
    if (copy.path("metadata").path("labels") instanceof ObjectNode labels) {
      labels.remove(HASH_LABEL);
    }
    return Json.pruned(copy);
  }

  static boolean equalIgnoringHash(JsonNode a, JsonNode b) {
    return normalizedTemplate(a).equals(normalizedTemplate(b));
  }

  private static final String SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

  /**
   * The pod-template hash: FNV-1a (32 bit) over the normalized template's canonical JSON and the
   * collision count, printed in decimal and encoded with Kubernetes' "safe" alphabet (no vowels, no
   * look-alike characters). Same shape as Kubernetes' hashes; the values differ (Kubernetes hashes
   * the Go struct dump).
   */
  static String hash(JsonNode template, long collisionCount) {
    String canonical = Json.canonical(normalizedTemplate(template));
    int h = 0x811c9dc5;
    for (byte b : canonical.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= 0x01000193;
    }
    if (collisionCount > 0) {
      for (int i = 0; i < 4; i++) {
        h ^= (int) ((collisionCount >>> (8 * i)) & 0xff);
        h *= 0x01000193;
      }
    }
    String dec = Long.toString(h & 0xffffffffL);
    StringBuilder out = new StringBuilder();
    for (char c : dec.toCharArray()) {
      out.append(SAFE_ALPHABET.charAt(c % SAFE_ALPHABET.length()));
    }
    return out.toString();
  }

  // ---------------------------------------------------------------------------- annotations

  static long revision(JsonNode obj) {
    String v = Meta.annotations(obj).get(REVISION);
    if (v == null) {
      return 0;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  static Integer intAnnotation(JsonNode obj, String key) {
    String v = Meta.annotations(obj).get(key);
    if (v == null) {
      return null;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * The annotations {@code rs} should have as the Deployment's new ReplicaSet: the Deployment's own
   * (but {@link #SKIP_COPY}), the revision (raised, never lowered) and, for a new ReplicaSet, the
   * desired and max replicas. Returns the changes only (empty if none).
   */
  static ObjectNode newReplicaSetAnnotations(
      JsonNode d, JsonNode rs, long newRevision, boolean exists) {
    ObjectNode changes = KubeClient.JSON.createObjectNode();
    Map<String, String> have = Meta.annotations(rs);
    for (Map.Entry<String, String> e : Meta.annotations(d).entrySet()) {
      if (!SKIP_COPY.contains(e.getKey()) && !e.getValue().equals(have.get(e.getKey()))) {
        changes.put(e.getKey(), e.getValue());
      }
    }
    if (revision(rs) < newRevision) {
      changes.put(REVISION, Long.toString(newRevision));
    }
    if (!exists) {
      changes.setAll(replicasAnnotations(rs, replicas(d), replicas(d) + maxSurge(d)));
    }
    return changes;
  }

  /** The desired/max replicas annotations that differ from what {@code rs} has. */
  static ObjectNode replicasAnnotations(JsonNode rs, int desired, int max) {
    ObjectNode changes = KubeClient.JSON.createObjectNode();
    Map<String, String> have = Meta.annotations(rs);
    if (!Integer.toString(desired).equals(have.get(DESIRED_REPLICAS))) {
      changes.put(DESIRED_REPLICAS, Integer.toString(desired));
    }
    if (!Integer.toString(max).equals(have.get(MAX_REPLICAS))) {
      changes.put(MAX_REPLICAS, Integer.toString(max));
    }
    return changes;
  }

  // ---------------------------------------------------------------------------- conditions

  static JsonNode condition(JsonNode status, String type) {
    for (JsonNode c : status.path("conditions")) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    return null;
  }

  static ObjectNode newCondition(
      String type, String status, String reason, String message, Instant now) {
    String t = now.truncatedTo(ChronoUnit.SECONDS).toString();
    ObjectNode c = KubeClient.JSON.createObjectNode();
    c.put("type", type)
        .put("status", status)
        .put("lastUpdateTime", t)
        .put("lastTransitionTime", t)
        .put("reason", reason)
        .put("message", message);
    return c;
  }

  /**
   * Sets a condition as Kubernetes' SetDeploymentCondition: nothing changes if status and reason
   * are the same; the transition time is kept if only the reason changed.
   */
  static void setCondition(ObjectNode status, ObjectNode c) {
    JsonNode cur = condition(status, c.path("type").asText());
    if (cur != null
        && cur.path("status").equals(c.path("status"))
        && cur.path("reason").equals(c.path("reason"))) {
      return;
    }
    if (cur != null && cur.path("status").equals(c.path("status"))) {
      c.set("lastTransitionTime", cur.path("lastTransitionTime").deepCopy());
    }
    removeCondition(status, c.path("type").asText());
    conditions(status).add(c);
  }

  static void removeCondition(ObjectNode status, String type) {
    ArrayNode conds = conditions(status);
    for (Iterator<JsonNode> it = conds.iterator(); it.hasNext(); ) {
      if (type.equals(it.next().path("type").asText())) {
        it.remove();
      }
    }
  }

  static ArrayNode conditions(ObjectNode status) {
    return status.get("conditions") instanceof ArrayNode a ? a : status.putArray("conditions");
  }

  static long progressDeadline(JsonNode d) {
    return d.path("spec").path("progressDeadlineSeconds").asLong(NO_DEADLINE);
  }

  static boolean hasProgressDeadline(JsonNode d) {
    return progressDeadline(d) != NO_DEADLINE;
  }

  /** Every replica updated and available, none old, for the current generation. */
  static boolean complete(JsonNode d, JsonNode status) {
    int replicas = replicas(d);
    return status.path("updatedReplicas").asInt(0) == replicas
        && status.path("replicas").asInt(0) == replicas
        && status.path("availableReplicas").asInt(0) == replicas
        && status.path("observedGeneration").asLong(0) >= Meta.generation(d);
  }

  /** The new status shows progress over the old one (Kubernetes' DeploymentProgressing). */
  static boolean progressing(JsonNode oldStatus, JsonNode newStatus) {
    int oldOld = oldStatus.path("replicas").asInt(0) - oldStatus.path("updatedReplicas").asInt(0);
    int newOld = newStatus.path("replicas").asInt(0) - newStatus.path("updatedReplicas").asInt(0);
    return newStatus.path("updatedReplicas").asInt(0) > oldStatus.path("updatedReplicas").asInt(0)
        || newOld < oldOld
        || newStatus.path("readyReplicas").asInt(0) > oldStatus.path("readyReplicas").asInt(0)
        || newStatus.path("availableReplicas").asInt(0)
            > oldStatus.path("availableReplicas").asInt(0);
  }

  /** The Progressing condition's last update is older than the progress deadline. */
  static boolean timedOut(JsonNode d, JsonNode status, Instant now) {
    if (!hasProgressDeadline(d)) {
      return false;
    }
    JsonNode c = condition(status, "Progressing");
    if (c == null) {
      return false;
    }
    String reason = c.path("reason").asText();
    if ("NewReplicaSetAvailable".equals(reason)) {
      return false;
    }
    if ("ProgressDeadlineExceeded".equals(reason)) {
      return true;
    }
    Instant from = dev.kubelite.controller.Pods.time(c.path("lastUpdateTime"));
    return from != null && from.plusSeconds(progressDeadline(d)).isBefore(now);
  }

  static List<String> names(List<? extends JsonNode> objs) {
    List<String> out = new ArrayList<>();
    objs.forEach(o -> out.add(Meta.name(o)));
    return out;
  }
}

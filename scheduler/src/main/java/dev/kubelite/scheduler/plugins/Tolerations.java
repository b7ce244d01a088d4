package dev.kubelite.scheduler.plugins;

import com.fasterxml.jackson.databind.JsonNode;

/** Whether a pod's tolerations tolerate a taint, with Kubernetes' matching rules. */
final class Tolerations {
  private Tolerations() {}

  /**
   * A toleration matches a taint when its effect is empty or equal, its key is empty (with {@code
   * Exists}: any key) or equal, and its operator is {@code Exists}, or {@code Equal} (the default)
   * with an equal value.
   */
  static boolean tolerates(JsonNode toleration, String key, String value, String effect) {
    String tEffect = toleration.path("effect").asText("");
    if (!tEffect.isEmpty() && !tEffect.equals(effect)) {
      return false;
    }
    String tKey = toleration.path("key").asText("");
    String op = toleration.path("operator").asText("");
    if (tKey.isEmpty()) {
      return op.equals("Exists");
    }
    if (!tKey.equals(key)) {
      return false;
    }
    return switch (op) {
      case "Exists" -> true;
      case "", "Equal" -> toleration.path("value").asText("").equals(value);
      default -> false;
    };
  }

  /** Whether any toleration of {@code pod} tolerates the taint. */
  static boolean podTolerates(JsonNode pod, String key, String value, String effect) {
    for (JsonNode t : pod.path("spec").path("tolerations")) {
      if (tolerates(t, key, value, effect)) {
        return true;
      }
    }
    return false;
  }
}

package dev.kubelite.controller.nodelifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Optional;

/** Taint and toleration matching, as Kubernetes' {@code ToleratesTaint}. */
final class Taints {
  private Taints() {}

  static final String UNREACHABLE = "node.kubernetes.io/unreachable";
  static final String NOT_READY = "node.kubernetes.io/not-ready";
  static final String NO_EXECUTE = "NoExecute";
  static final String NO_SCHEDULE = "NoSchedule";

  /** Whether {@code toleration} tolerates {@code taint}. */
  static boolean tolerates(JsonNode toleration, JsonNode taint) {
    String effect = toleration.path("effect").asText("");
    if (!effect.isEmpty() && !effect.equals(taint.path("effect").asText(""))) {
      return false;
    }
    String key = toleration.path("key").asText("");
    String operator = toleration.path("operator").asText("Equal");
    if (key.isEmpty()) {
      // An empty key with Exists matches every taint.
      return operator.equals("Exists");
    }
    if (!key.equals(taint.path("key").asText(""))) {
      return false;
    }
    return switch (operator) {
      case "Exists" -> true;
      case "", "Equal" ->
          toleration.path("value").asText("").equals(taint.path("value").asText(""));
      default -> false;
    };
  }

  /**
   * How long {@code pod} may stay on a node with the NoExecute {@code taint}: empty for ever, zero
   * for not at all. A pod without a matching toleration for the not-ready or unreachable taints
   * gets {@code defaultToleration} (what the DefaultTolerationSeconds admission plugin would have
   * added to it); for any other NoExecute taint it must go at once.
   */
  static Optional<Duration> toleration(JsonNode pod, JsonNode taint, Duration defaultToleration) {
    Duration min = null;
    boolean matched = false;
    for (JsonNode t : pod.path("spec").path("tolerations")) {
      if (!tolerates(t, taint)) {
        continue;
      }
      matched = true;
      if (t.hasNonNull("tolerationSeconds")) {
        Duration d = Duration.ofSeconds(Math.max(0, t.path("tolerationSeconds").asLong()));
        if (min == null || d.compareTo(min) < 0) {
          min = d;
        }
      }
    }
    if (!matched) {
      String key = taint.path("key").asText("");
      if (key.equals(NOT_READY) || key.equals(UNREACHABLE)) {
        return Optional.of(defaultToleration);
      }
      return Optional.of(Duration.ZERO);
    }
    return Optional.ofNullable(min);
  }
}

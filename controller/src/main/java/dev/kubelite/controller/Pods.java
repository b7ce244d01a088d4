package dev.kubelite.controller;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubelite.client.Meta;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Pod state as workload controllers judge it (Kubernetes' podutil). */
public final class Pods {
  private Pods() {}

  /** Not finished (phase neither Succeeded nor Failed) and not being deleted. */
  public static boolean isActive(JsonNode pod) {
    String phase = pod.path("status").path("phase").asText("");
    return !"Succeeded".equals(phase) && !"Failed".equals(phase) && !Meta.isBeingDeleted(pod);
  }

  /** The {@code Ready} condition, or a missing node. */
  public static JsonNode readyCondition(JsonNode pod) {
    for (JsonNode c : pod.path("status").path("conditions")) {
      if ("Ready".equals(c.path("type").asText())) {
        return c;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  public static boolean isReady(JsonNode pod) {
    return "True".equals(readyCondition(pod).path("status").asText());
  }

  /** Ready for at least {@code minReadySeconds} at {@code now}. */
  public static boolean isAvailable(JsonNode pod, long minReadySeconds, Instant now) {
    if (!isReady(pod)) {
      return false;
    }
    if (minReadySeconds <= 0) {
      return true;
    }
    Instant since = time(readyCondition(pod).path("lastTransitionTime"));
    return since != null && !since.plusSeconds(minReadySeconds).isAfter(now);
  }

  /** An RFC 3339 timestamp field, or null if missing or malformed. */
  public static Instant time(JsonNode n) {
    if (n == null || !n.isTextual()) {
      return null;
    }
    try {
      return Instant.parse(n.asText());
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}

package dev.kubelite.scheduler.framework;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Meta;

/**
 * A pod as the scheduler sees it: its object and what it asks for, computed once.
 *
 * @param requests what the pod requests: per resource, the larger of the containers' sum and the
 *     largest init container, plus {@code spec.overhead}; a container without a request but with a
 *     limit requests its limit (the API defaulting Kubernetes applies); {@code pods} is 1
 * @param nonZeroRequests the same with 100m CPU / 200 MiB for containers that request none, used by
 *     the scores so pods without requests still spread (kube-scheduler's non-zero requests)
 * @param controllerUid the uid of the controlling owner ({@code ownerReferences[controller=true]}),
 *     or null
 * @param selectsNodes whether a non-empty {@code spec.nodeSelector} or a required node affinity
 *     restricts the pod's nodes; when not, the node affinity filter passes every node without
 *     reading it (what kube-scheduler's NodeAffinity PreFilter computes once per pod)
 */
public record PodInfo(
    String key,
    ObjectNode pod,
    Resources requests,
    Resources nonZeroRequests,
    String controllerUid,
    boolean selectsNodes) {

  /** IllegalArgumentException if a request or limit is not a valid quantity. */
  public static PodInfo of(ObjectNode pod) {
    JsonNode spec = pod.path("spec");
    Resources sum = Resources.ZERO;
    Resources nonZeroSum = Resources.ZERO;
    for (JsonNode c : spec.path("containers")) {
      Resources r = containerRequests(c);
      sum = sum.plus(r);
      nonZeroSum = nonZeroSum.plus(nonZero(r));
    }
    for (JsonNode c : spec.path("initContainers")) {
      Resources r = containerRequests(c);
      sum = sum.max(r);
      nonZeroSum = nonZeroSum.max(nonZero(r));
    }
    if (spec.has("overhead")) {
      Resources overhead = Resources.of(spec.path("overhead"));
      sum = sum.plus(overhead);
      nonZeroSum = nonZeroSum.plus(overhead);
    }
    Resources one = new Resources(0, 0, 1);
    return new PodInfo(
        Meta.key(pod),
        pod,
        new Resources(sum.milliCpu(), sum.memory(), 0).plus(one),
        new Resources(nonZeroSum.milliCpu(), nonZeroSum.memory(), 0).plus(one),
        controllerUid(pod),
        selectsNodes(spec));
  }

  private static boolean selectsNodes(JsonNode spec) {
    JsonNode required =
        spec.path("affinity")
            .path("nodeAffinity")
            .path("requiredDuringSchedulingIgnoredDuringExecution");
    return spec.path("nodeSelector").size() > 0 || !(required.isMissingNode() || required.isNull());
  }

  private static Resources containerRequests(JsonNode c) {
    JsonNode res = c.path("resources");
    Resources requests = Resources.of(res.path("requests"));
    Resources limits = Resources.of(res.path("limits"));
    return new Resources(
        res.path("requests").has("cpu") ? requests.milliCpu() : limits.milliCpu(),
        res.path("requests").has("memory") ? requests.memory() : limits.memory(),
        0);
  }

  private static Resources nonZero(Resources r) {
    return new Resources(
        r.milliCpu() == 0 ? Resources.DEFAULT_MILLI_CPU_REQUEST : r.milliCpu(),
        r.memory() == 0 ? Resources.DEFAULT_MEMORY_REQUEST : r.memory(),
        0);
  }

  private static String controllerUid(JsonNode pod) {
    for (JsonNode ref : pod.path("metadata").path("ownerReferences")) {
      if (ref.path("controller").asBoolean(false) && ref.hasNonNull("uid")) {
        // Interned: the spreading score looks it up in every node's owner counts, and a key
        // that is the same instance compares without reading its characters.
        return ref.path("uid").asText().intern();
      }
    }
    return null;
  }

  public String nodeName() {
    String n = pod.path("spec").path("nodeName").asText("");
    return n.isEmpty() ? null : n;
  }
}

package dev.kubelite.scheduler.framework;

import com.fasterxml.jackson.databind.JsonNode;

/** CPU in millicores, memory in bytes, and a pod count: what the scheduler adds up and compares. */
public record Resources(long milliCpu, long memory, long pods) {
  public static final Resources ZERO = new Resources(0, 0, 0);

  /** What kube-scheduler assumes for scoring when a container requests no CPU: 100m. */
  public static final long DEFAULT_MILLI_CPU_REQUEST = 100;

  /** What kube-scheduler assumes for scoring when a container requests no memory: 200 MiB. */
  public static final long DEFAULT_MEMORY_REQUEST = 200L * 1024 * 1024;

  public Resources plus(Resources o) {
    return new Resources(milliCpu + o.milliCpu, memory + o.memory, pods + o.pods);
  }

  public Resources minus(Resources o) {
    return new Resources(milliCpu - o.milliCpu, memory - o.memory, pods - o.pods);
  }

  public Resources max(Resources o) {
    return new Resources(
        Math.max(milliCpu, o.milliCpu), Math.max(memory, o.memory), Math.max(pods, o.pods));
  }

  /**
   * A resource list ({@code {"cpu": "500m", "memory": "1Gi", "pods": "110"}}); missing entries are
   * zero. A malformed quantity throws IllegalArgumentException naming the resource.
   */
  public static Resources of(JsonNode list) {
    return new Resources(
        quantity(list, "cpu", true),
        quantity(list, "memory", false),
        quantity(list, "pods", false));
  }

  private static long quantity(JsonNode list, String name, boolean milli) {
    JsonNode v = list.path(name);
    if (v.isMissingNode() || v.isNull()) {
      return 0;
    }
    String s = v.asText();
    try {
      return milli ? Quantity.milliValue(s) : Quantity.value(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "cpu=" + milliCpu + "m memory=" + memory + " pods=" + pods;
  }
}

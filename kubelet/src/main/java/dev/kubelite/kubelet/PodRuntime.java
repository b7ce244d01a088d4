package dev.kubelite.kubelet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a simulated node's container runtime knows about one pod: when it was admitted, when its
 * containers start, run, exit, restart and stop, its IP, and the times of its conditions. {@link
 * #advance} moves it to a given instant (reporting each step to a {@link Listener}); {@link
 * #status} renders the pod status the kubelet reports for it. Used by one worker at a time (the
 * work queue never hands one key to two workers).
 */
final class PodRuntime {
  /** Seconds a container runs before it exits (no annotation: it runs until the pod is deleted). */
  static final String EXIT_AFTER = "kubelite.dev/exit-after-seconds";

  /** The exit code of that exit (default 0). */
  static final String EXIT_CODE = "kubelite.dev/exit-code";

  /** What happened, for events and logs. */
  interface Listener {
    void pulling(ContainerRt c);

    void pulled(ContainerRt c);

    void created(ContainerRt c);

    void started(ContainerRt c);

    void exited(ContainerRt c, int exitCode);

    void backOff(ContainerRt c, Duration delay);

    void killing(ContainerRt c);
  }

  /** One container of the pod. */
  static final class ContainerRt {
    final String name;
    final String image;
    final String imageRef;
    final String imageId;
    final String pullPolicy;
    final long readyDelaySeconds;
    final Long exitAfterSeconds;
    final int exitCode;
    String containerId;
    Instant startedAt;
    int restartCount;
    Instant backOffUntil;
    Duration backOffDelay;
    ObjectNode terminated;
    ObjectNode lastTerminated;

    /** The lines the simulated container "printed" ({@code kubectl logs}). */
    final ContainerLog log = new ContainerLog();

    /** Set when the pod is admitted: the node does not have the image (or the policy is Always). */
    boolean pullNeeded;

    ContainerRt(JsonNode spec, Long exitAfterSeconds, int exitCode) {
      this.name = spec.path("name").asText();
      this.image = spec.path("image").asText("");
      this.imageRef = normalizeImage(image);
      this.imageId = imageId(imageRef);
      this.pullPolicy = spec.path("imagePullPolicy").asText("IfNotPresent");
      this.readyDelaySeconds =
          spec.path("readinessProbe").isObject()
              ? spec.path("readinessProbe").path("initialDelaySeconds").asLong(0)
              : 0;
      this.exitAfterSeconds = exitAfterSeconds;
      this.exitCode = exitCode;
    }

    boolean running() {
      return startedAt != null && terminated == null;
    }

    boolean created() {
      return containerId != null;
    }

    boolean ready(Instant now) {
      return running() && !now.isBefore(startedAt.plusSeconds(readyDelaySeconds));
    }
  }

  final String key;
  final String uid;
  final SimNode node;
  final String restartPolicy;
  final List<ContainerRt> containers = new ArrayList<>();
  Instant admittedAt;
  Instant startAt;
  String podIp;
  boolean ipReleased;
  boolean ipLogged;
  boolean pullsAnnounced;

  /** Deletion seen: the containers stop at this instant. */
  Instant killAt;

  /** The containers stopped because the pod is being deleted. */
  boolean killed;

  /** The kubelet asked the API server to remove the pod object. */
  boolean deleteRequested;

  /** The status last written (null: none yet), to write only changes. */
  ObjectNode lastWritten;

  /** What the last log line said (e.g. "Running ready 1/1"). */
  String lastLogged;

  /** Why the next log line happens (e.g. "app exited with code 1"), cleared when logged. */
  final List<String> notes = new ArrayList<>();

  /** Found running when this process started (it restarted). */
  boolean adopted;

  private final Map<String, String[]> conditionSince = new LinkedHashMap<>();

  PodRuntime(ObjectNode pod, SimNode node, Instant now, Duration startupDelay) {
    this.key = Meta.key(pod);
    this.uid = Meta.uid(pod);
    this.node = node;
    this.restartPolicy = pod.path("spec").path("restartPolicy").asText("Always");
    this.admittedAt = now;
    this.startAt = now.plus(startupDelay);
    Map<String, String> ann = Meta.annotations(pod);
    Long exitAfter = null;
    int exitCode = 0;
    if (ann.containsKey(EXIT_AFTER)) {
      exitAfter = parseLong(ann.get(EXIT_AFTER), EXIT_AFTER, key);
      if (exitAfter != null && exitAfter < 0) {
        exitAfter = 0L;
      }
    }
    if (ann.containsKey(EXIT_CODE)) {
      Long code = parseLong(ann.get(EXIT_CODE), EXIT_CODE, key);
      exitCode = code == null ? 0 : (int) Math.max(0, Math.min(255, code));
    }
    for (JsonNode c : pod.path("spec").path("containers")) {
      containers.add(new ContainerRt(c, exitAfter, exitCode));
    }
  }

  private static Long parseLong(String v, String what, String key) {
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      Kubelet.LOG.warn(
          "pod {}: annotation {}={} is not a whole number; ignored (write e.g. \"30\")",
          key,
          what,
          v);
      return null;
    }
  }

  /**
   * Takes over a pod this process did not start (the kubelet restarted): keeps its IP, container
   * IDs, start times and restart counts from the reported status.
   */
  void adopt(ObjectNode pod) {
    adopted = true;
    JsonNode st = pod.path("status");
    if (st.hasNonNull("podIP")) {
      podIp = st.path("podIP").asText();
      node.reserveIp(podIp);
    }
    Instant start = parse(st.path("startTime"));
    pullsAnnounced = true;
    for (JsonNode cs : st.path("containerStatuses")) {
      for (ContainerRt c : containers) {
        if (!c.name.equals(cs.path("name").asText())) {
          continue;
        }
        c.restartCount = cs.path("restartCount").asInt(0);
        if (cs.hasNonNull("containerID")) {
          c.containerId = cs.path("containerID").asText();
        }
        if (cs.path("lastState").path("terminated").isObject()) {
          c.lastTerminated = (ObjectNode) cs.path("lastState").path("terminated").deepCopy();
        }
        Instant running = parse(cs.path("state").path("running").path("startedAt"));
        if (running != null) {
          c.startedAt = running;
        } else if (cs.path("state").path("terminated").isObject()) {
          c.terminated = (ObjectNode) cs.path("state").path("terminated").deepCopy();
          c.startedAt = parse(c.terminated.path("startedAt"));
        }
      }
    }
    if (start != null && containers.stream().anyMatch(ContainerRt::created)) {
      admittedAt = start;
      startAt = start;
    }
    for (JsonNode cond : st.path("conditions")) {
      conditionSince.put(
          cond.path("type").asText(),
          new String[] {cond.path("status").asText(), cond.path("lastTransitionTime").asText()});
    }
  }

  private static Instant parse(JsonNode n) {
    if (n == null || !n.isTextual()) {
      return null;
    }
    try {
      return Instant.parse(n.asText());
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  /** Starts the deletion: the containers stop after the grace period (capped). */
  void kill(Instant now, long gracePeriodSeconds, Duration maxGrace, Listener l) {
    boolean first = killAt == null;
    Duration grace = Duration.ofSeconds(Math.max(0, gracePeriodSeconds));
    if (containers.stream().noneMatch(ContainerRt::running)) {
      grace = Duration.ZERO; // Nothing to stop: the kubelet finishes at once.
    }
    Instant at = now.plus(grace.compareTo(maxGrace) < 0 ? grace : maxGrace);
    if (killAt != null) {
      // A second delete may shorten the grace period, never lengthen it.
      if (!killed && at.isBefore(killAt)) {
        killAt = at;
        if (first) {
          notes.add(
              "deletion requested, grace period "
                  + gracePeriodSeconds
                  + "s, containers stop in "
                  + human(Duration.between(now, at)));
        }
      }
      return;
    }
    killAt = at;
    if (first) {
      notes.add(
          "deletion requested, grace period "
              + gracePeriodSeconds
              + "s, containers stop in "
              + human(Duration.between(now, at)));
    }
    for (ContainerRt c : containers) {
      if (c.running()) {
        l.killing(c);
      }
    }
  }

  /** Moves every container to what it is doing at {@code now}. */
  void advance(Instant now, KubeletConfig config, Listener l) {
    if (killAt != null) {
      if (!killed && !now.isBefore(killAt)) {
        for (ContainerRt c : containers) {
          if (c.running()) {
            c.terminated = terminated(c, 0, "Completed", killAt);
          } else if (c.terminated == null) {
            // Never ran (or waited to restart): Kubernetes reports such containers this way.
            c.terminated = KubeClient.JSON.createObjectNode();
            c.terminated
                .put("exitCode", 137)
                .put("reason", "ContainerStatusUnknown")
                .put("message", "The container could not be located when the pod was terminated");
          }
          c.backOffUntil = null;
        }
        killed = true;
      }
      return;
    }
    if (!pullsAnnounced) {
      pullsAnnounced = true;
      for (ContainerRt c : containers) {
        l.pulling(c);
      }
    }
    if (now.isBefore(startAt)) {
      return;
    }
    for (ContainerRt c : containers) {
      // Catch up on every step due by now (a long pause may cover several).
      for (int step = 0; step < 1000; step++) {
        if (c.containerId == null && c.terminated == null) {
          l.pulled(c);
          start(c, startAt, l);
        } else if (c.running()
            && c.exitAfterSeconds != null
            && !now.isBefore(c.startedAt.plusSeconds(c.exitAfterSeconds))) {
          Instant at = c.startedAt.plusSeconds(c.exitAfterSeconds);
          c.terminated = terminated(c, c.exitCode, c.exitCode == 0 ? "Completed" : "Error", at);
          l.exited(c, c.exitCode);
          boolean restart =
              restartPolicy.equals("Always")
                  || (restartPolicy.equals("OnFailure") && c.exitCode != 0);
          if (restart) {
            Duration delay = backOff(c.restartCount, config);
            c.lastTerminated = c.terminated;
            c.terminated = null;
            c.startedAt = null;
            c.backOffDelay = delay;
            c.backOffUntil = at.plus(delay);
            if (!delay.isZero()) {
              l.backOff(c, delay);
            }
          }
        } else if (c.backOffUntil != null && !now.isBefore(c.backOffUntil)) {
          Instant at = c.backOffUntil;
          c.backOffUntil = null;
          c.restartCount++;
          c.pullNeeded = false;
          l.pulled(c);
          start(c, at, l);
        } else {
          break;
        }
      }
    }
  }

  /** kubelet's restart back-off: the first restart at once, then base, 2×base, … up to max. */
  static Duration backOff(int restartsSoFar, KubeletConfig c) {
    if (restartsSoFar == 0) {
      return Duration.ZERO;
    }
    Duration d = c.crashLoopBackOff();
    for (int i = 1; i < restartsSoFar && d.compareTo(c.crashLoopBackOffMax()) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(c.crashLoopBackOffMax()) > 0 ? c.crashLoopBackOffMax() : d;
  }

  private void start(ContainerRt c, Instant at, Listener l) {
    byte[] id = new byte[32];
    ThreadLocalRandom.current().nextBytes(id);
    c.containerId = "containerd://" + HexFormat.of().formatHex(id);
    c.startedAt = at;
    c.terminated = null;
    l.created(c);
    l.started(c);
  }

  private static ObjectNode terminated(ContainerRt c, int code, String reason, Instant at) {
    ObjectNode t = KubeClient.JSON.createObjectNode();
    t.put("exitCode", code).put("reason", reason);
    t.put("startedAt", SimNode.seconds(c.startedAt)).put("finishedAt", SimNode.seconds(at));
    t.put("containerID", c.containerId);
    return t;
  }

  /** The next instant something is due (a start, a readiness, an exit, a restart, a stop). */
  Instant nextWakeUp(Instant now) {
    Instant next = null;
    if (killAt != null) {
      return killed ? null : killAt;
    }
    if (now.isBefore(startAt)) {
      return startAt;
    }
    for (ContainerRt c : containers) {
      if (c.running()) {
        next = earliest(next, now, c.startedAt.plusSeconds(c.readyDelaySeconds));
        if (c.exitAfterSeconds != null) {
          next = earliest(next, now, c.startedAt.plusSeconds(c.exitAfterSeconds));
        }
      }
      if (c.backOffUntil != null) {
        next = earliest(next, now, c.backOffUntil);
      }
    }
    return next;
  }

  private static Instant earliest(Instant a, Instant now, Instant b) {
    if (!b.isAfter(now)) {
      return a;
    }
    return a == null || b.isBefore(a) ? b : a;
  }

  /** Whether every container has stopped for good (the pod is Succeeded or Failed). */
  boolean terminal() {
    return containers.stream().allMatch(c -> c.terminated != null && c.backOffUntil == null);
  }

  String phase(Instant now) {
    if (terminal()) {
      return containers.stream().allMatch(c -> c.terminated.path("exitCode").asInt() == 0)
          ? "Succeeded"
          : "Failed";
    }
    if (containers.stream().anyMatch(c -> c.running() || c.backOffUntil != null)) {
      return "Running";
    }
    return "Pending";
  }

  /** The pod status the kubelet reports at {@code now}. */
  ObjectNode status(ObjectNode pod, Instant now) {
    String phase = phase(now);
    ObjectNode s = KubeClient.JSON.createObjectNode();
    s.put("phase", phase);
    List<String> unready = new ArrayList<>();
    for (ContainerRt c : containers) {
      if (!c.ready(now)) {
        unready.add(c.name);
      }
    }
    boolean ready = unready.isEmpty() && !containers.isEmpty();
    boolean completed = phase.equals("Succeeded");
    String notReady = completed ? "PodCompleted" : "ContainersNotReady";
    String notReadyMsg =
        completed ? null : "containers with unready status: [" + String.join(" ", unready) + "]";
    ArrayNode conds = s.putArray("conditions");
    boolean sandbox = !killed && !terminal();
    condition(conds, "PodReadyToStartContainers", sandbox, null, null, now);
    condition(conds, "Initialized", true, null, null, now);
    condition(conds, "Ready", ready, notReady, notReadyMsg, now);
    condition(conds, "ContainersReady", ready, notReady, notReadyMsg, now);
    JsonNode scheduled = null;
    for (JsonNode c : pod.path("status").path("conditions")) {
      if ("PodScheduled".equals(c.path("type").asText())) {
        scheduled = c;
      }
    }
    if (scheduled != null) {
      conds.add(scheduled.deepCopy());
    } else {
      condition(conds, "PodScheduled", true, null, null, now);
    }
    s.put("hostIP", node.internalIp);
    s.putArray("hostIPs").addObject().put("ip", node.internalIp);
    if (podIp != null && containers.stream().anyMatch(ContainerRt::created)) {
      s.put("podIP", podIp);
      s.putArray("podIPs").addObject().put("ip", podIp);
    }
    s.put("startTime", SimNode.seconds(admittedAt));
    ArrayNode statuses = s.putArray("containerStatuses");
    for (ContainerRt c : containers) {
      statuses.add(containerStatus(c, now));
    }
    s.put("qosClass", qosClass(pod));
    return s;
  }

  private ObjectNode containerStatus(ContainerRt c, Instant now) {
    ObjectNode cs = KubeClient.JSON.createObjectNode();
    cs.put("name", c.name);
    ObjectNode state = cs.putObject("state");
    if (c.running()) {
      state.putObject("running").put("startedAt", SimNode.seconds(c.startedAt));
    } else if (c.terminated != null) {
      state.set("terminated", c.terminated.deepCopy());
    } else if (c.backOffUntil != null) {
      state
          .putObject("waiting")
          .put("reason", "CrashLoopBackOff")
          .put(
              "message",
              "back-off "
                  + human(c.backOffDelay)
                  + " restarting failed container="
                  + c.name
                  + " pod="
                  + podRef());
    } else {
      state.putObject("waiting").put("reason", "ContainerCreating");
    }
    ObjectNode last = cs.putObject("lastState");
    if (c.lastTerminated != null) {
      last.set("terminated", c.lastTerminated.deepCopy());
    }
    cs.put("ready", c.ready(now));
    cs.put("restartCount", c.restartCount);
    cs.put("image", c.imageRef);
    cs.put("imageID", c.created() ? c.imageId : "");
    if (c.created()) {
      cs.put("containerID", c.containerId);
    }
    cs.put("started", c.running());
    return cs;
  }

  String podRef() {
    int slash = key.indexOf('/');
    return key.substring(slash + 1) + "_" + key.substring(0, slash) + "(" + uid + ")";
  }

  private void condition(
      ArrayNode conds, String type, boolean ok, String reason, String message, Instant now) {
    String status = ok ? "True" : "False";
    String[] since = conditionSince.get(type);
    if (since == null || !since[0].equals(status)) {
      since = new String[] {status, SimNode.seconds(now)};
      conditionSince.put(type, since);
    }
    ObjectNode c = conds.addObject().put("type", type).put("status", status);
    c.putNull("lastProbeTime");
    c.put("lastTransitionTime", since[1]);
    if (!ok && reason != null) {
      c.put("reason", reason);
      if (message != null) {
        c.put("message", message);
      }
    }
  }

  /** The short state kubectl's STATUS column would show, plus ready count and restarts. */
  String summary(Instant now, boolean deleting) {
    long ready = containers.stream().filter(c -> c.ready(now)).count();
    int restarts = containers.stream().mapToInt(c -> c.restartCount).sum();
    String what;
    if (deleting && !killed) {
      what = "Terminating";
    } else if (containers.stream().anyMatch(c -> c.backOffUntil != null)) {
      what = "CrashLoopBackOff";
    } else if (containers.stream().anyMatch(c -> !c.created() && c.terminated == null)) {
      what = "ContainerCreating";
    } else {
      String phase = phase(now);
      what =
          switch (phase) {
            case "Succeeded" -> "Completed";
            case "Failed" -> "Error";
            default -> phase;
          };
    }
    return what
        + " ready "
        + ready
        + "/"
        + containers.size()
        + (restarts > 0 ? " restarts " + restarts : "");
  }

  /** Guaranteed, Burstable or BestEffort from the containers' requests and limits. */
  static String qosClass(JsonNode pod) {
    boolean any = false;
    boolean guaranteed = true;
    for (JsonNode c : pod.path("spec").path("containers")) {
      JsonNode req = c.path("resources").path("requests");
      JsonNode lim = c.path("resources").path("limits");
      if (req.size() > 0 || lim.size() > 0) {
        any = true;
      }
      for (String r : List.of("cpu", "memory")) {
        if (!lim.hasNonNull(r)) {
          guaranteed = false;
        } else if (req.hasNonNull(r) && !req.get(r).asText().equals(lim.get(r).asText())) {
          guaranteed = false;
        }
      }
    }
    if (!any) {
      return "BestEffort";
    }
    return guaranteed ? "Guaranteed" : "Burstable";
  }

  /** {@code nginx} → {@code docker.io/library/nginx:latest}, as containerd reports images. */
  static String normalizeImage(String image) {
    if (image.isEmpty()) {
      return image;
    }
    String name = image;
    int at = name.indexOf('@');
    String lastPart = name.substring(name.lastIndexOf('/') + 1);
    if (at < 0 && !lastPart.contains(":")) {
      name = name + ":latest";
    }
    String first = name.contains("/") ? name.substring(0, name.indexOf('/')) : "";
    boolean hasRegistry = first.contains(".") || first.contains(":") || first.equals("localhost");
    if (!hasRegistry) {
      name = (name.contains("/") ? "docker.io/" : "docker.io/library/") + name;
    }
    return name;
  }

  /** A stable digest per image name, as a registry would give. */
  static String imageId(String imageRef) {
    String repo = imageRef;
    int at = repo.indexOf('@');
    if (at >= 0) {
      return imageRef;
    }
    int colon = repo.lastIndexOf(':');
    if (colon > repo.lastIndexOf('/')) {
      repo = repo.substring(0, colon);
    }
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(imageRef.getBytes(StandardCharsets.UTF_8));
      return repo + "@sha256:" + HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  static String human(Duration d) {
    long s = d.toSeconds();
    if (s >= 60 && s % 60 == 0) {
      return (s / 60) + "m0s";
    }
    if (s >= 60) {
      return (s / 60) + "m" + (s % 60) + "s";
    }
    return d.toMillis() % 1000 == 0 ? s + "s" : d.toMillis() + "ms";
  }
}

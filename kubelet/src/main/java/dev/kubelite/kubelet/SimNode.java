package dev.kubelite.kubelet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One simulated node: its name, number and addresses, its pod IP range, and the Node and Lease
 * objects it writes. The number picks the addresses: InternalIP {@code 172.16.0.0/12} + number, pod
 * CIDR {@code 10.<number / 256>.<number % 256>.0/24} (pod IPs .2 to .254; .1 is the gateway).
 */
final class SimNode {
  /** Node numbers are limited by the pod CIDR scheme: one /24 per node inside 10.0.0.0/8. */
  static final int MAX_NODE_NUMBER = 65_535;

  /** Usable pod IPs per node: .2 to .254 of its /24. */
  static final int MAX_POD_IPS = 253;

  static final DateTimeFormatter MICRO_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX").withZone(ZoneOffset.UTC);

  final String name;
  final int number;
  final String internalIp;
  final String podCidr;
  private final String podNetPrefix;
  private final BitSet usedIps = new BitSet(256);
  private final String bootId = UUID.randomUUID().toString();
  private final String machineId;

  /** Images this node has pulled (IfNotPresent pulls them once). */
  private final java.util.Set<String> images = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Written by the heartbeat threads, read by the pod workers. */
  volatile String uid;

  /** The last Lease this node wrote (or read), for the next renewal's optimistic update. */
  volatile ObjectNode lease;

  /** When a node was stopped it sends nothing and moves no pods; its start resumes both. */
  volatile boolean running = true;

  volatile boolean registered;

  /** The value of the stop annotation last seen on the Node (null: not seen yet). */
  volatile String stopAnnotation;

  SimNode(String prefix, int number) {
    this.name = prefix + "-" + number;
    this.number = number;
    this.internalIp =
        "172." + (16 + ((number >> 16) & 15)) + "." + ((number >> 8) & 255) + "." + (number & 255);
    this.podNetPrefix = "10." + ((number >> 8) & 255) + "." + (number & 255) + ".";
    this.podCidr = podNetPrefix + "0/24";
    this.machineId =
        UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString().replace("-", "");
  }

  // ------------------------------------------------------------------------------ pod IPs

  /** The lowest free pod IP, or null when the node's /24 is full. */
  synchronized String allocateIp() {
    int i = usedIps.nextClearBit(2);
    if (i > 254) {
      return null;
    }
    usedIps.set(i);
    return podNetPrefix + i;
  }

  /** Marks an IP as used (a pod found running when the process started). */
  synchronized boolean reserveIp(String ip) {
    int i = hostPart(ip);
    if (i < 0 || usedIps.get(i)) {
      return false;
    }
    usedIps.set(i);
    return true;
  }

  synchronized void releaseIp(String ip) {
    int i = hostPart(ip);
    if (i >= 0) {
      usedIps.clear(i);
    }
  }

  synchronized int usedIpCount() {
    return usedIps.cardinality();
  }

  private int hostPart(String ip) {
    if (ip == null || !ip.startsWith(podNetPrefix)) {
      return -1;
    }
    try {
      int i = Integer.parseInt(ip.substring(podNetPrefix.length()));
      return i >= 2 && i <= 254 ? i : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** True the first time this node sees the image (it "pulls" it), false once it has it. */
  boolean pullImage(String image) {
    return images.add(image);
  }

  // ------------------------------------------------------------------------------ objects

  /** The Node as the kubelet registers it. */
  ObjectNode nodeObject(KubeletConfig c, Instant now, int kubeletPort) {
    ObjectNode n = KubeClient.JSON.createObjectNode();
    n.put("apiVersion", "v1").put("kind", "Node");
    ObjectNode meta = n.putObject("metadata").put("name", name);
    ObjectNode labels = meta.putObject("labels");
    labels.put("beta.kubernetes.io/arch", "amd64");
    labels.put("beta.kubernetes.io/os", "linux");
    labels.put("kubernetes.io/arch", "amd64");
    labels.put("kubernetes.io/hostname", name);
    labels.put("kubernetes.io/os", "linux");
    labels.put("type", "kubelite-simulated"); // Kubelet.SIMULATED_LABEL
    for (Map.Entry<String, String> e : c.labels().entrySet()) {
      labels.put(e.getKey(), e.getValue());
    }
    ObjectNode ann = meta.putObject("annotations");
    ann.put("node.alpha.kubernetes.io/ttl", "0");
    ann.put("volumes.kubernetes.io/controller-managed-attach-detach", "true");
    ObjectNode spec = n.putObject("spec");
    spec.put("podCIDR", podCidr);
    spec.putArray("podCIDRs").add(podCidr);
    if (!c.taints().isEmpty()) {
      ArrayNode taints = spec.putArray("taints");
      for (String t : c.taints()) {
        taints.add(parseTaint(t));
      }
    }
    ObjectNode status = n.putObject("status");
    ObjectNode capacity = status.putObject("capacity");
    capacity
        .put("cpu", c.cpu())
        .put("memory", c.memory())
        .put("pods", Integer.toString(c.maxPods()));
    capacity.put("ephemeral-storage", "100Gi").put("hugepages-2Mi", "0");
    status.set("allocatable", capacity.deepCopy());
    status.set("conditions", conditions(now, null));
    ArrayNode addresses = status.putArray("addresses");
    addresses.addObject().put("type", "InternalIP").put("address", internalIp);
    addresses.addObject().put("type", "Hostname").put("address", name);
    status.putObject("daemonEndpoints").putObject("kubeletEndpoint").put("Port", kubeletPort);
    ObjectNode info = status.putObject("nodeInfo");
    info.put("machineID", machineId);
    info.put(
        "systemUUID",
        UUID.nameUUIDFromBytes(machineId.getBytes(StandardCharsets.UTF_8)).toString());
    info.put("bootID", bootId);
    info.put("kernelVersion", "6.1.0-kubelite");
    info.put("osImage", "Kubelite simulated node");
    info.put("containerRuntimeVersion", "kubelite://simulated");
    info.put("kubeletVersion", c.kubeletVersion());
    info.put("kubeProxyVersion", c.kubeletVersion());
    info.put("operatingSystem", "linux");
    info.put("architecture", "amd64");
    return n;
  }

  /**
   * The four conditions a healthy kubelet reports, heartbeat {@code now}. A condition keeps its
   * {@code lastTransitionTime} from {@code previous} (the Node's current conditions) when its
   * status is unchanged, as the kubelet does.
   */
  ArrayNode conditions(Instant now, JsonNode previous) {
    ArrayNode a = KubeClient.JSON.createArrayNode();
    String t = seconds(now);
    List<String[]> all =
        List.of(
            new String[] {
              "MemoryPressure",
              "False",
              "KubeletHasSufficientMemory",
              "kubelet has sufficient memory available"
            },
            new String[] {
              "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"
            },
            new String[] {
              "PIDPressure",
              "False",
              "KubeletHasSufficientPID",
              "kubelet has sufficient PID available"
            },
            new String[] {"Ready", "True", "KubeletReady", "kubelet is posting ready status"});
    for (String[] c : all) {
      String since = t;
      if (previous != null) {
        for (JsonNode p : previous) {
          if (c[0].equals(p.path("type").asText())
              && c[1].equals(p.path("status").asText())
              && p.hasNonNull("lastTransitionTime")) {
            since = p.path("lastTransitionTime").asText();
          }
        }
      }
      a.addObject()
          .put("type", c[0])
          .put("status", c[1])
          .put("lastHeartbeatTime", t)
          .put("lastTransitionTime", since)
          .put("reason", c[2])
          .put("message", c[3]);
    }
    return a;
  }

  /** The node's Lease in kube-node-lease, owned by the Node (as the kubelet writes it). */
  ObjectNode leaseObject(KubeletConfig c, Instant now) {
    ObjectNode l = KubeClient.JSON.createObjectNode();
    l.put("apiVersion", "coordination.k8s.io/v1").put("kind", "Lease");
    ObjectNode meta = l.putObject("metadata").put("name", name).put("namespace", Kubelet.LEASE_NS);
    if (uid != null) {
      meta.putArray("ownerReferences")
          .addObject()
          .put("apiVersion", "v1")
          .put("kind", "Node")
          .put("name", name)
          .put("uid", uid);
    }
    l.putObject("spec")
        .put("holderIdentity", name)
        .put("leaseDurationSeconds", c.leaseDuration().toSeconds())
        .put("renewTime", MICRO_TIME.format(now));
    return l;
  }

  /** {@code key[=value]:Effect} (the kubelet's --register-with-taints syntax) as a Taint. */
  static ObjectNode parseTaint(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(
          "taint '" + s + "' must be key[=value]:Effect (NoSchedule, PreferNoSchedule, NoExecute)");
    }
    String effect = s.substring(colon + 1);
    if (!List.of("NoSchedule", "PreferNoSchedule", "NoExecute").contains(effect)) {
      throw new IllegalArgumentException(
          "taint '" + s + "': effect must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    String kv = s.substring(0, colon);
    int eq = kv.indexOf('=');
    ObjectNode t = KubeClient.JSON.createObjectNode();
    t.put("key", eq < 0 ? kv : kv.substring(0, eq));
    if (eq >= 0) {
      t.put("value", kv.substring(eq + 1));
    }
    t.put("effect", effect);
    return t;
  }

  static String seconds(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  @Override
  public String toString() {
    return name;
  }
}

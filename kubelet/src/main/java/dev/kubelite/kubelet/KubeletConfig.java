package dev.kubelite.kubelet;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one simulated-kubelet process runs: how many nodes, their names and sizes, and the timings
 * of heartbeats and of the simulated containers. Build it with {@link #builder()}.
 *
 * @param nodes how many nodes this process hosts
 * @param firstNode the number of the first node ({@code <prefix>-<firstNode>}); node numbers also
 *     pick each node's addresses, so two processes need disjoint ranges
 * @param nodePrefix node names are {@code <prefix>-<number>}
 * @param cpu {@code status.capacity.cpu} and allocatable (a quantity, e.g. "8")
 * @param memory {@code status.capacity.memory} and allocatable (e.g. "32Gi")
 * @param maxPods {@code status.capacity.pods} and allocatable
 * @param labels extra node labels
 * @param taints node taints, each {@code key[=value]:Effect}
 * @param leaseDuration the Lease's {@code leaseDurationSeconds} (kubelet: 40 s)
 * @param leaseRenewInterval how often each node renews its Lease (kubelet: a quarter of the
 *     duration, 10 s)
 * @param statusReportInterval how often each node posts its status with fresh condition heartbeat
 *     times when nothing changed (kubelet's nodeStatusReportFrequency: 5 min)
 * @param podStartupDelay from seeing a pod bound to a node until its containers run
 * @param maxGracePeriod the simulated containers stop after the pod's grace period, but never later
 *     than this after the deletion was seen
 * @param crashLoopBackOff the first restart delay of a container that exited (doubling per restart
 *     up to {@code crashLoopBackOffMax}; kubelet: 10 s and 5 min)
 * @param crashLoopBackOffMax the longest restart delay
 * @param podWorkers threads that move pods along (shared by all nodes; the builder's default grows
 *     with the node count, see {@link #autoPodWorkers})
 * @param heartbeatWorkers threads that register nodes, renew leases and post node status (shared;
 *     the builder's default grows with the node count, see {@link #autoHeartbeatWorkers})
 * @param kubeletVersion {@code status.nodeInfo.kubeletVersion}
 * @param podEvents whether pods get the kubelet's events (Pulling, Pulled, Created, Started,
 *     Killing, BackOff); off, a pod costs the API server one or two status writes only
 * @param serverPort the port on 127.0.0.1 where this process serves its nodes' container logs (the
 *     kubelet API's {@code /containerLogs}, published in each Node's {@code
 *     status.daemonEndpoints}); 0 picks a free one
 */
public record KubeletConfig(
    int nodes,
    int firstNode,
    String nodePrefix,
    String cpu,
    String memory,
    int maxPods,
    Map<String, String> labels,
    List<String> taints,
    Duration leaseDuration,
    Duration leaseRenewInterval,
    Duration statusReportInterval,
    Duration podStartupDelay,
    Duration maxGracePeriod,
    Duration crashLoopBackOff,
    Duration crashLoopBackOffMax,
    int podWorkers,
    int heartbeatWorkers,
    String kubeletVersion,
    boolean podEvents,
    int serverPort) {

  public KubeletConfig {
    if (nodes < 1) {
      throw new IllegalArgumentException("--nodes must be at least 1, got " + nodes);
    }
    if (firstNode < 1 || firstNode + (long) nodes - 1 > SimNode.MAX_NODE_NUMBER) {
      throw new IllegalArgumentException(
          "node numbers must lie in 1.."
              + SimNode.MAX_NODE_NUMBER
              + " (they pick each node's /24 of pod IPs): got "
              + firstNode
              + ".."
              + (firstNode + (long) nodes - 1));
    }
    if (maxPods < 1 || maxPods > SimNode.MAX_POD_IPS) {
      throw new IllegalArgumentException(
          "--pods must lie in 1.." + SimNode.MAX_POD_IPS + " (one /24 per node), got " + maxPods);
    }
    if (serverPort < 0 || serverPort > 65535) {
      throw new IllegalArgumentException("--port must lie in 0..65535, got " + serverPort);
    }
    if (podWorkers < 1 || heartbeatWorkers < 1) {
      throw new IllegalArgumentException("worker counts must be at least 1");
    }
    for (Duration d :
        List.of(leaseRenewInterval, statusReportInterval, crashLoopBackOffMax, leaseDuration)) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("intervals must be positive, got " + d);
      }
    }
    labels = Map.copyOf(labels);
    taints = List.copyOf(taints);
    for (String t : taints) {
      SimNode.parseTaint(t);
    }
  }

  /**
   * Pod workers for {@code nodes} nodes when none are configured: one per 32 nodes, at least 4, at
   * most 32. Each status write is a blocking call to the API server; at 1,000 nodes and 1,000
   * pods/s (two or three writes per pod) four threads fell 15–40 s behind (decision 0065).
   */
  public static int autoPodWorkers(int nodes) {
    return Math.max(4, Math.min(32, nodes / 32));
  }

  /**
   * Heartbeat threads for {@code nodes} nodes when none are configured: one per 25 nodes, at least
   * 2, at most 64. At 1,000 nodes the Leases alone are 100 writes/s, each a blocking call: ten
   * threads at the 270–380 ms a loaded API server takes per write renewed only 26–37 leases/s, so
   * leases aged past the 40 s grace period and the node lifecycle controller marked up to 136 nodes
   * NotReady in one run; forty keep up at up to ~400 ms per write (decisions 0065, 0045).
   */
  public static int autoHeartbeatWorkers(int nodes) {
    return Math.max(2, Math.min(64, nodes / 25));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Fluent construction with Kubernetes' defaults. */
  public static final class Builder {
    private int nodes = 1;
    private int firstNode = 1;
    private String nodePrefix = "node";
    private String cpu = "8";
    private String memory = "32Gi";
    private int maxPods = 110;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private List<String> taints = List.of();
    private Duration leaseDuration = Duration.ofSeconds(40);
    private Duration leaseRenewInterval = Duration.ofSeconds(10);
    private Duration statusReportInterval = Duration.ofMinutes(5);
    private Duration podStartupDelay = Duration.ofSeconds(1);
    private Duration maxGracePeriod = Duration.ofSeconds(5);
    private Duration crashLoopBackOff = Duration.ofSeconds(10);
    private Duration crashLoopBackOffMax = Duration.ofMinutes(5);
    private int podWorkers = 0;
    private int heartbeatWorkers = 0;
    private String kubeletVersion = "v1.32.0-kubelite";
    private boolean podEvents = true;
    private int serverPort = 0;

    public Builder nodes(int n) {
      nodes = n;
      return this;
    }

    public Builder firstNode(int n) {
      firstNode = n;
      return this;
    }

    public Builder nodePrefix(String p) {
      nodePrefix = p;
      return this;
    }

    public Builder cpu(String c) {
      cpu = c;
      return this;
    }

    public Builder memory(String m) {
      memory = m;
      return this;
    }

    public Builder maxPods(int p) {
      maxPods = p;
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    public Builder taints(List<String> t) {
      taints = t;
      return this;
    }

    public Builder leaseDuration(Duration d) {
      leaseDuration = d;
      return this;
    }

    public Builder leaseRenewInterval(Duration d) {
      leaseRenewInterval = d;
      return this;
    }

    public Builder statusReportInterval(Duration d) {
      statusReportInterval = d;
      return this;
    }

    public Builder podStartupDelay(Duration d) {
      podStartupDelay = d;
      return this;
    }

    public Builder maxGracePeriod(Duration d) {
      maxGracePeriod = d;
      return this;
    }

    public Builder crashLoopBackOff(Duration first, Duration max) {
      crashLoopBackOff = first;
      crashLoopBackOffMax = max;
      return this;
    }

    /**
     * Pod worker threads; 0 (the default) sizes them by the node count ({@link #autoPodWorkers}).
     */
    public Builder podWorkers(int n) {
      podWorkers = n;
      return this;
    }

    /**
     * Heartbeat threads; 0 (the default) sizes them by the node count ({@link
     * #autoHeartbeatWorkers}).
     */
    public Builder heartbeatWorkers(int n) {
      heartbeatWorkers = n;
      return this;
    }

    public Builder kubeletVersion(String v) {
      kubeletVersion = v;
      return this;
    }

    public Builder podEvents(boolean on) {
      podEvents = on;
      return this;
    }

    public Builder serverPort(int port) {
      serverPort = port;
      return this;
    }

    public KubeletConfig build() {
      return new KubeletConfig(
          nodes,
          firstNode,
          nodePrefix,
          cpu,
          memory,
          maxPods,
          labels,
          taints,
          leaseDuration,
          leaseRenewInterval,
          statusReportInterval,
          podStartupDelay,
          maxGracePeriod,
          crashLoopBackOff,
          crashLoopBackOffMax,
          podWorkers == 0 ? autoPodWorkers(nodes) : podWorkers,
          heartbeatWorkers == 0 ? autoHeartbeatWorkers(nodes) : heartbeatWorkers,
          kubeletVersion,
          podEvents,
          serverPort);
    }
  }
}

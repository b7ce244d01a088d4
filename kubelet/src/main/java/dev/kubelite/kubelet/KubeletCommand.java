package dev.kubelite.kubelet;

import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubelite kubelet}: N simulated nodes in one process. */
@Command(
    name = "kubelet",
    mixinStandardHelpOptions = true,
    description = {
      "Runs N simulated kubelets in one process (no containers run): each registers a Node"
          + " (<prefix>-<number>) with capacity, addresses and conditions, renews its Lease in"
          + " kube-node-lease and posts its status; pods bound to these nodes go"
          + " ContainerCreating → Running with pod IPs, container statuses and the kubelet's"
          + " events, and finish deletion after their grace period.",
      "Annotations kubelite.dev/exit-after-seconds and kubelite.dev/exit-code make a pod's"
          + " containers exit (restartPolicy decides what follows). `kubectl annotate node"
          + " <node> kubelite.dev/stopped=true` stops one node as if it failed (remove the"
          + " annotation to start it). Stopping the process stops the heartbeats; the Nodes"
          + " stay. See docs/kubelet.md."
    })
public final class KubeletCommand implements Callable<Integer> {

  @Option(
      names = "--kubeconfig",
      description = "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
  String kubeconfig;

  @Option(
      names = "--server",
      description = "API server URL, e.g. http://127.0.0.1:6443 (overrides the kubeconfig).")
  String server;

  @Option(
      names = "--nodes",
      defaultValue = "1",
      description = "How many nodes this process hosts (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(
      names = "--node-prefix",
      defaultValue = "node",
      description = "Node names are <prefix>-<number> (default: ${DEFAULT-VALUE}).")
  String nodePrefix;

  @Option(
      names = "--first-node",
      defaultValue = "1",
      description =
          "Number of the first node (default: ${DEFAULT-VALUE}). Numbers pick the nodes' IPs:"
              + " give separate processes disjoint ranges.")
  int firstNode;

  @Option(
      names = "--cpu",
      defaultValue = "8",
      description = "CPU capacity per node (default: ${DEFAULT-VALUE}).")
  String cpu;

  @Option(
      names = "--memory",
      defaultValue = "32Gi",
      description = "Memory capacity per node (default: ${DEFAULT-VALUE}).")
  String memory;

  @Option(
      names = {"--pods", "--max-pods"},
      defaultValue = "110",
      description = "Pod capacity per node, at most 253 (default: ${DEFAULT-VALUE}).")
  int pods;

  @Option(
      names = "--node-labels",
      split = ",",
      description = "Extra node labels, key=value[,key=value...].")
  List<String> nodeLabels = new ArrayList<>();

  @Option(
      names = "--register-with-taints",
      split = ",",
      description = "Node taints, key[=value]:Effect[,...].")
  List<String> taints = new ArrayList<>();

  @Option(
      names = "--node-lease-duration-seconds",
      defaultValue = "40",
      description = "The nodes' Lease duration (default: ${DEFAULT-VALUE}).")
  long leaseDurationSeconds;

  @Option(
      names = "--node-lease-renew-interval",
      defaultValue = "10s",
      description = "How often each node renews its Lease (default: ${DEFAULT-VALUE}).")
  String leaseRenewInterval;

  @Option(
      names = "--node-status-report-frequency",
      defaultValue = "5m",
      description =
          "How often each node posts its status when nothing changed (default:"
              + " ${DEFAULT-VALUE}).")
  String statusReportFrequency;

  @Option(
      names = "--pod-startup-delay",
      defaultValue = "1s",
      description =
          "From a pod bound to a node until its containers run (default: ${DEFAULT-VALUE}).")
  String podStartupDelay;

  @Option(
      names = "--max-grace-period",
      defaultValue = "5s",
      description =
          "Deleted pods stop after their grace period, but at most this long (default:"
              + " ${DEFAULT-VALUE}).")
  String maxGracePeriod;

  @Option(
      names = "--crash-loop-backoff",
      defaultValue = "10s",
      description =
          "First restart back-off of an exited container, doubling up to 5m (default:"
              + " ${DEFAULT-VALUE}).")
  String crashLoopBackOff;

  @Option(
      names = "--pod-events",
      defaultValue = "true",
      arity = "1",
      description =
          "Write the kubelet's pod events (Pulling, Pulled, Created, Started, Killing, BackOff);"
              + " false leaves each pod one or two status writes, for large benchmarks"
              + " (default: ${DEFAULT-VALUE}).")
  boolean podEvents;

  @Option(
      names = "--port",
      defaultValue = "0",
      description =
          "Port on 127.0.0.1 for the kubelet API's container logs (what `kubectl logs` reaches"
              + " through the API server); 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--node-kubeconfig-dir",
      paramLabel = "DIR",
      description =
          "One kubeconfig per node, DIR/<node>.conf, each with that node's credentials"
              + " (system:node:<node>), as each real kubelet has its own kubelet.conf: what a node"
              + " writes about itself goes with its own identity. The first node's also watches.")
  Path nodeKubeconfigDir;

  @Option(
      names = "--workers",
      defaultValue = "0",
      description =
          "Threads moving pods, shared by all nodes; 0 (the default): one per 32 nodes, at least"
              + " 4, at most 32.")
  int workers;

  @Override
  public Integer call() throws Exception {
    KubeletConfig config;
    KubeClient client;
    try {
      KubeletConfig.Builder b =
          KubeletConfig.builder()
              .nodes(nodes)
              .firstNode(firstNode)
              .nodePrefix(nodePrefix)
              .cpu(cpu)
              .memory(memory)
              .maxPods(pods)
              .taints(taints)
              .leaseDuration(Duration.ofSeconds(leaseDurationSeconds))
              .leaseRenewInterval(duration("--node-lease-renew-interval", leaseRenewInterval))
              .statusReportInterval(
                  duration("--node-status-report-frequency", statusReportFrequency))
              .podStartupDelay(duration("--pod-startup-delay", podStartupDelay))
              .maxGracePeriod(duration("--max-grace-period", maxGracePeriod))
              .crashLoopBackOff(
                  duration("--crash-loop-backoff", crashLoopBackOff), Duration.ofMinutes(5))
              .podWorkers(workers)
              .podEvents(podEvents)
              .serverPort(port);
      for (Map.Entry<String, String> e : labels(nodeLabels).entrySet()) {
        b.label(e.getKey(), e.getValue());
      }
      config = b.build();
      client =
          server != null
              ? new KubeClient(URI.create(server))
              : nodeKubeconfigDir != null && kubeconfig == null
                  ? null // every node's own kubeconfig, below
                  : KubeClient.fromConfig(KubeConfig.load(kubeconfig));
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      System.err.println(
          "kubelite kubelet: "
              + e.getMessage()
              + (server == null ? "; or name the API server with --server http://HOST:PORT" : ""));
      return 2;
    }
    Kubelet kubelet;
    if (nodeKubeconfigDir == null) {
      kubelet = new Kubelet(client, config);
    } else {
      Map<String, KubeClient> perNode = new java.util.LinkedHashMap<>();
      try {
        for (int i = 0; i < config.nodes(); i++) {
          String node = config.nodePrefix() + "-" + (config.firstNode() + i);
          perNode.put(
              node,
              KubeClient.fromConfig(KubeConfig.parse(nodeKubeconfigDir.resolve(node + ".conf"))));
        }
      } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
        System.err.println("kubelite kubelet: --node-kubeconfig-dir: " + e.getMessage());
        return 2;
      }
      kubelet = new Kubelet(perNode.values().iterator().next(), perNode::get, config);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  kubelet.close();
                  stopped.countDown();
                },
                "kubelet-shutdown"));
    kubelet.start();
    stopped.await();
    return 0;
  }

  private static Map<String, String> labels(List<String> specs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String s : specs) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--node-labels: '" + s + "' is not key=value");
      }
      m.put(s.substring(0, eq), s.substring(eq + 1));
    }
    return m;
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  /** A Go-style duration: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h30m}. */
  static Duration duration(String flag, String s) {
    Matcher m = DURATION.matcher(s.trim());
    Duration d = Duration.ZERO;
    int at = 0;
    while (m.find() && m.start() == at) {
      long v = Long.parseLong(m.group(1));
      d =
          d.plus(
              switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(v);
                case "s" -> Duration.ofSeconds(v);
                case "m" -> Duration.ofMinutes(v);
                default -> Duration.ofHours(v);
              });
      at = m.end();
    }
    if (at == 0 || at != s.trim().length()) {
      throw new IllegalArgumentException(
          flag + ": '" + s + "' is not a duration (write e.g. 500ms, 10s, 5m, 1h30m)");
    }
    return d;
  }

  public static void main(String[] args) {
    int code = new CommandLine(new KubeletCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}

package dev.kubelite.controller;

import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kubelite controller-manager}: runs the controllers against an API server, with
 * kube-controller-manager's flag names.
 */
@Command(
    name = "controller-manager",
    mixinStandardHelpOptions = true,
    description = {
      "Runs Kubelite's controller manager: the ReplicaSet and Deployment controllers (and the"
          + " others this build knows, see --controllers), talking only to the API server through"
          + " list+watch.",
      "With --leader-elect (the default) only the instance holding the Lease"
          + " kube-system/kube-controller-manager runs controllers; start several for high"
          + " availability. Each reconcile that acts logs one line. See docs/controllers.md."
    })
public final class ControllerManagerCommand implements Callable<Integer> {

  @Option(
      names = "--kubeconfig",
      description =
          "Path to a kubeconfig file (else $KUBECONFIG, else ~/.kube/config); --server wins.")
  String kubeconfig;

  @Option(
      names = {"--server", "--master"},
      description = "API server URL, e.g. http://127.0.0.1:6443 (overrides the kubeconfig).")
  String server;

  @Option(
      names = "--controllers",
      split = ",",
      description =
          "Controllers to run: '*' for all, 'foo' to enable foo, '-foo' to disable foo"
              + " (default: ${DEFAULT-VALUE}). Known: replicaset, deployment, node-lifecycle,"
              + " garbage-collector, namespace, serviceaccount.",
      defaultValue = "*")
  List<String> controllers = new ArrayList<>();

  @Option(
      names = "--concurrent-replicaset-syncs",
      description =
          "ReplicaSets reconciled at once, each by its own worker (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int replicaSetSyncs;

  @Option(
      names = "--concurrent-deployment-syncs",
      description =
          "Deployments reconciled at once, each by its own worker (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int deploymentSyncs;

  @Option(
      names = "--leader-elect",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      arity = "0..1",
      description =
          "Run controllers only while holding the Lease kube-system/kube-controller-manager"
              + " (default: ${DEFAULT-VALUE}).")
  boolean leaderElect;

  @Option(
      names = "--leader-elect-lease-duration",
      description = "How long a non-renewed lease stays valid (default: ${DEFAULT-VALUE}).",
      defaultValue = "15s",
      converter = DurationConverter.class)
  Duration leaseDuration;

  @Option(
      names = "--leader-elect-renew-deadline",
      description =
          "How long the leader tries to renew before it stops (default: ${DEFAULT-VALUE}).",
      defaultValue = "10s",
      converter = DurationConverter.class)
  Duration renewDeadline;

  @Option(
      names = "--leader-elect-retry-period",
      description = "How often candidates try and the leader renews (default: ${DEFAULT-VALUE}).",
      defaultValue = "2s",
      converter = DurationConverter.class)
  Duration retryPeriod;

  @Option(
      names = "--identity",
      description = "Leader election identity (default: <hostname>_<random uuid>, as Kubernetes).")
  String identity;

  /** Durations as Go writes them: {@code 15s}, {@code 500ms}, {@code 1m}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String v) {
      String s = v.trim();
      try {
        if (s.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
        }
        if (s.endsWith("s")) {
          return Duration.ofMillis(
              Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
        }
        if (s.endsWith("m")) {
          return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
        }
      } catch (NumberFormatException e) {
        // fall through to the message below
      }
      throw new CommandLine.TypeConversionException(
          "'" + v + "' is not a duration like 15s, 500ms or 1m");
    }
  }

  @Override
  public Integer call() throws Exception {
    KubeClient client;
    try {
      client =
          server != null
              ? new KubeClient(URI.create(server))
              : KubeClient.fromConfig(KubeConfig.load(kubeconfig));
    } catch (RuntimeException e) {
      System.err.println(
          "kubelite controller-manager: cannot reach the API server: " + e.getMessage());
      return 2;
    }
    Map<String, Function<KubeClient, Controller>> known;
    try {
      known = ControllerManager.known(replicaSetSyncs, deploymentSyncs);
    } catch (IllegalArgumentException e) {
      System.err.println(
          "kubelite controller-manager: --concurrent-replicaset-syncs and"
              + " --concurrent-deployment-syncs: "
              + e.getMessage());
      return 2;
    }
    Map<String, Function<KubeClient, Controller>> chosen = new LinkedHashMap<>();
    try {
      for (String name : ControllerManager.select(controllers, known.keySet())) {
        chosen.put(name, known.get(name));
      }
    } catch (IllegalArgumentException e) {
      System.err.println("kubelite controller-manager: --controllers: " + e.getMessage());
      return 2;
    }
    ControllerManager.Election election = null;
    if (leaderElect) {
      try {
        election =
            new ControllerManager.Election(
                identity != null ? identity : defaultIdentity(),
                leaseDuration,
                renewDeadline,
                retryPeriod);
        // Validates the timing (lease > renew deadline > retry period).
        new dev.kubelite.client.leaderelection.LeaderElector.Config(
            "kube-system",
            "x",
            election.identity(),
            leaseDuration,
            renewDeadline,
            retryPeriod,
            true);
      } catch (IllegalArgumentException e) {
        System.err.println("kubelite controller-manager: leader election: " + e.getMessage());
        return 2;
      }
    }
    ControllerManager manager = new ControllerManager(client, chosen, election);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  manager.close();
                  stopped.countDown();
                },
                "controller-manager-shutdown"));
    System.err.println(
        "kubelite controller-manager: API server "
            + client.server()
            + ", controllers "
            + String.join(",", chosen.keySet())
            + (election == null ? ", no leader election" : ", identity " + election.identity()));
    manager.start();
    stopped.await();
    return 0;
  }

  private static String defaultIdentity() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return host + "_" + UUID.randomUUID();
  }

  public static void main(String[] args) {
    int code = new CommandLine(new ControllerManagerCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}

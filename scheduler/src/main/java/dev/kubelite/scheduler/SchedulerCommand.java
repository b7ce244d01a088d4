package dev.kubelite.scheduler;

import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import dev.kubelite.client.leaderelection.LeaderElector;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubelite scheduler}: the scheduler, with kube-scheduler's flag names. */
@Command(
    name = "scheduler",
    mixinStandardHelpOptions = true,
    description = {
      "Runs Kubelite's scheduler: assigns pods without spec.nodeName whose spec.schedulerName is"
          + " default-scheduler to nodes, as kube-scheduler does — filters (Ready, unschedulable,"
          + " nodeSelector, required node affinity, taints/tolerations, cpu/memory/pod-count"
          + " fit), scores (least allocated, balanced allocation, spreading pods of one owner),"
          + " binding through pods/binding, Scheduled and FailedScheduling events.",
      "It talks only to the API server (--server, or the current context of the kubeconfig)."
          + " With --leader-elect (the default) several instances can run; the one holding the"
          + " Lease kube-system/kube-scheduler schedules. See docs/scheduler.md."
    })
public final class SchedulerCommand implements Callable<Integer> {

  @Option(
      names = "--kubeconfig",
      description =
          "Path to a kubeconfig file (kubectl's format); default: KUBECONFIG, then ~/.kube/config.")
  String kubeconfig;

  @Option(
      names = {"--server", "--master"},
      description =
          "The API server's URL, e.g. http://127.0.0.1:6443 (overrides the kubeconfig's server).")
  String server;

  @Option(
      names = "--leader-elect",
      arity = "0..1",
      fallbackValue = "true",
      defaultValue = "true",
      description =
          "Elect a leader through a Lease before scheduling, so several instances can run"
              + " (default: ${DEFAULT-VALUE}; --leader-elect=false to schedule at once).")
  boolean leaderElect;

  @Option(
      names = "--leader-elect-lease-duration",
      defaultValue = "15s",
      description =
          "How long a candidate waits for an unrenewed lease (default: ${DEFAULT-VALUE}).")
  String leaseDuration;

  @Option(
      names = "--leader-elect-renew-deadline",
      defaultValue = "10s",
      description =
          "How long the leader tries to renew before it stops (default: ${DEFAULT-VALUE}).")
  String renewDeadline;

  @Option(
      names = "--leader-elect-retry-period",
      defaultValue = "2s",
      description = "How often candidates try and the leader renews (default: ${DEFAULT-VALUE}).")
  String retryPeriod;

  @Option(
      names = "--leader-elect-resource-namespace",
      defaultValue = "kube-system",
      description = "Namespace of the Lease (default: ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(
      names = "--leader-elect-resource-name",
      defaultValue = "kube-scheduler",
      description = "Name of the Lease (default: ${DEFAULT-VALUE}).")
  String leaseName;

  @Option(
      names = "--scheduler-name",
      defaultValue = Scheduler.DEFAULT_SCHEDULER_NAME,
      description = "The spec.schedulerName this scheduler serves (default: ${DEFAULT-VALUE}).")
  String schedulerName;

  @Override
  public Integer call() throws Exception {
    KubeClient client;
    LeaderElector.Config election = null;
    try {
      client = client();
      if (leaderElect) {
        election =
            new LeaderElector.Config(
                leaseNamespace,
                leaseName,
                identity(),
                duration("--leader-elect-lease-duration", leaseDuration),
                duration("--leader-elect-renew-deadline", renewDeadline),
                duration("--leader-elect-retry-period", retryPeriod),
                true);
      }
    } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
      System.err.println("kubelite scheduler: " + e.getMessage());
      return 2;
    }
    Scheduler.Options o =
        new Scheduler.Options(
            schedulerName,
            election,
            Duration.ofSeconds(1),
            Duration.ofSeconds(10),
            Scheduler.DEFAULT_BIND_THREADS);
    Scheduler scheduler = new Scheduler(client, o);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  scheduler.close();
                  stopped.countDown();
                },
                "scheduler-shutdown"));
    scheduler.start();
    System.err.println(
        "kubelite scheduler: watching "
            + client.server()
            + (election == null
                ? " (no leader election)"
                : " (leader election on lease "
                    + leaseNamespace
                    + "/"
                    + leaseName
                    + " as "
                    + election.identity()
                    + ")"));
    stopped.await();
    return 0;
  }

  /**
   * {@code --server} (with the token of {@code --kubeconfig}'s user, if given), else the
   * kubeconfig.
   */
  private KubeClient client() {
    if (server == null) {
      return KubeClient.fromConfig(KubeConfig.load(kubeconfig));
    }
    String token = null;
    if (kubeconfig != null) {
      KubeConfig config = KubeConfig.load(kubeconfig);
      KubeConfig.User user = config.user(config.currentContext());
      token = user == null ? null : user.token();
    }
    return new KubeClient(URI.create(server), token, Duration.ofSeconds(30));
  }

  /** kube-scheduler's identity: host name, underscore, a random UUID. */
  static String identity() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return host + "_" + UUID.randomUUID();
  }

  private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h)");

  /** A Go-style duration: {@code 500ms}, {@code 15s}, {@code 1m}, {@code 1h}. */
  static Duration duration(String flag, String s) {
    Matcher m = DURATION.matcher(s);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          flag + ": \"" + s + "\" is not a duration (write e.g. 500ms, 15s, 1m)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  public static void main(String[] args) {
    int code = new CommandLine(new SchedulerCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}

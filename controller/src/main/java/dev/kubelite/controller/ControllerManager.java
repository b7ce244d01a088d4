package dev.kubelite.controller;

import dev.kubelite.client.KubeClient;
import dev.kubelite.client.leaderelection.LeaderElector;
import dev.kubelite.controller.deployment.DeploymentController;
import dev.kubelite.controller.gc.GarbageCollector;
import dev.kubelite.controller.namespace.NamespaceController;
import dev.kubelite.controller.nodelifecycle.NodeLifecycleController;
import dev.kubelite.controller.replicaset.ReplicaSetController;
import dev.kubelite.controller.serviceaccount.ServiceAccountsController;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller manager: runs a set of {@link Controller}s against one API server. With leader
 * election (the default, as kube-controller-manager) the controllers run only while this instance
 * holds the Lease {@code kube-system/kube-controller-manager}; when it loses the Lease they are
 * stopped, and started afresh (new informers, a fresh list) if it wins it again.
 */
public final class ControllerManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("controller-manager");

  public static final String LEASE_NAMESPACE = "kube-system";
  public static final String LEASE_NAME = "kube-controller-manager";

  /** The controllers this build knows, by the name {@code --controllers} uses, in start order. */
  public static Map<String, Function<KubeClient, Controller>> known() {
    return known(DEFAULT_CONCURRENT_SYNCS, DEFAULT_CONCURRENT_SYNCS);
  }

  /** kube-controller-manager's default of {@code --concurrent-replicaset-syncs} and the like. */
  public static final int DEFAULT_CONCURRENT_SYNCS = 5;

  /**
   * The known controllers, with {@code replicaSetSyncs} ReplicaSet and {@code deploymentSyncs}
   * Deployment workers ({@code --concurrent-replicaset-syncs}, {@code
   * --concurrent-deployment-syncs}).
   */
  public static Map<String, Function<KubeClient, Controller>> known(
      int replicaSetSyncs, int deploymentSyncs) {
    if (replicaSetSyncs < 1 || deploymentSyncs < 1) {
      throw new IllegalArgumentException(
          "concurrent syncs must be at least 1, got " + Math.min(replicaSetSyncs, deploymentSyncs));
    }
    // One pod watch and cache for the controllers that read pods (decision 0042), the garbage
    // collector's included (decision 0043).
    SharedInformers shared = new SharedInformers();
    Map<String, Function<KubeClient, Controller>> m = new LinkedHashMap<>();
    m.put(ReplicaSetController.NAME, c -> new ReplicaSetController(c, replicaSetSyncs, shared));
    m.put(DeploymentController.NAME, c -> new DeploymentController(c, deploymentSyncs, shared));
    m.put(
        NodeLifecycleController.NAME,
        c -> new NodeLifecycleController(c, NodeLifecycleController.Options.defaults(), shared));
    m.put(
        GarbageCollector.NAME,
        c -> new GarbageCollector(c, GarbageCollector.Options.defaults(), shared));
    m.put(
        NamespaceController.NAME,
        c -> new NamespaceController(c, NamespaceController.Options.defaults()));
    m.put(ServiceAccountsController.NAME, c -> new ServiceAccountsController(c, 1));
    return m;
  }

  /**
   * The names {@code --controllers} selects: {@code *} is every known controller, {@code foo}
   * enables foo, {@code -foo} disables it (kube-controller-manager's syntax).
   */
  public static List<String> select(List<String> flag, Set<String> known) {
    Set<String> on = new LinkedHashSet<>();
    Set<String> off = new LinkedHashSet<>();
    boolean all = false;
    for (String raw : flag) {
      String s = raw.trim();
      if (s.isEmpty()) {
        continue;
      }
      if (s.equals("*")) {
        all = true;
        continue;
      }
      boolean disable = s.startsWith("-");
      String name = disable ? s.substring(1) : s;
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            "\""
                + name
                + "\" is not in the list of known controllers: "
                + String.join(", ", known));
      }
      (disable ? off : on).add(name);
    }
    List<String> out = new ArrayList<>();
    for (String k : known) {
      if ((all || on.contains(k)) && !off.contains(k)) {
        out.add(k);
      }
    }
    return out;
  }

  /** Leader election timing, or null for no leader election. */
  public record Election(
      String identity, Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
    public static Election defaults(String identity) {
      return new Election(
          identity, Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
    }
  }

  private final KubeClient client;
  private final Map<String, Function<KubeClient, Controller>> factories;
  private final Election election;
  private final LeaderElector elector;
  private final List<Controller> running = new ArrayList<>();
  private boolean closed;

  public ControllerManager(
      KubeClient client,
      Map<String, Function<KubeClient, Controller>> factories,
      Election election) {
    this.client = client.withUserAgent("kube-controller-manager");
    this.factories = new LinkedHashMap<>(factories);
    this.election = election;
    this.elector =
        election == null
            ? null
            : new LeaderElector(
                client,
                new LeaderElector.Config(
                    LEASE_NAMESPACE,
                    LEASE_NAME,
                    election.identity(),
                    election.leaseDuration(),
                    election.renewDeadline(),
                    election.retryPeriod(),
                    true),
                new LeaderElector.Callbacks() {
                  @Override
                  public void onStartedLeading() {
                    log.info(
                        "{} leads (lease {}/{}): starting controllers {}",
                        election.identity(),
                        LEASE_NAMESPACE,
                        LEASE_NAME,
                        ControllerManager.this.factories.keySet());
                    startControllers();
                  }

                  @Override
                  public void onStoppedLeading() {
                    if (isClosed()) {
                      log.info("{} stopped leading (shutting down)", election.identity());
                      return;
                    }
                    log.warn(
                        "{} lost the lease {}/{}: stopping controllers",
                        election.identity(),
                        LEASE_NAMESPACE,
                        LEASE_NAME);
                    stopControllers();
                  }

                  @Override
                  public void onNewLeader(String identity) {
                    if (!election.identity().equals(identity)) {
                      log.info("leader is now {}", identity);
                    }
                  }
                });
  }

  public void start() {
    if (elector != null) {
      log.info(
          "{} waiting to lead (lease {}/{}, duration {} s)",
          election.identity(),
          LEASE_NAMESPACE,
          LEASE_NAME,
          election.leaseDuration().toSeconds());
      elector.start();
    } else {
      log.info("leader election off: starting controllers {}", factories.keySet());
      startControllers();
    }
  }

  private synchronized void startControllers() {
    if (closed || !running.isEmpty()) {
      return;
    }
    for (Map.Entry<String, Function<KubeClient, Controller>> e : factories.entrySet()) {
      Controller c = e.getValue().apply(client);
      running.add(c);
      c.start();
      log.info("started controller {}", c.name());
    }
  }

  private synchronized void stopControllers() {
    List<Controller> stopping = new ArrayList<>(running);
    Collections.reverse(stopping);
    running.clear();
    for (Controller c : stopping) {
      try {
        c.close();
      } catch (RuntimeException e) {
        log.warn("controller {} did not stop cleanly: {}", c.name(), e.toString(), e);
      }
    }
  }

  private synchronized boolean isClosed() {
    return closed;
  }

  /** True while the controllers run (this instance leads, or leader election is off). */
  public synchronized boolean isActive() {
    return !running.isEmpty();
  }

  /** True once the controllers run and every one of them has synced its informers. */
  public synchronized boolean hasSynced() {
    return !running.isEmpty() && running.stream().allMatch(Controller::hasSynced);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    log.info(
        "shutting down: stopping controllers{}",
        elector == null ? "" : ", then releasing the lease " + LEASE_NAMESPACE + "/" + LEASE_NAME);
    stopControllers();
    if (elector != null) {
      elector.close();
    }
  }
}

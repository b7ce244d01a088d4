package dev.kubelite.client.leaderelection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on a {@code coordination.k8s.io/v1} Lease, as client-go's leaderelection does it:
 * candidates try every {@code retryPeriod} to take the Lease; the holder renews it every {@code
 * retryPeriod} and stops leading when it could not renew for {@code renewDeadline}; a Lease whose
 * record nobody changed for {@code leaseDuration} (measured on this candidate's own clock from when
 * it last saw the record change, so clocks need not agree) may be taken over. Every write is a
 * conditional update on the Lease's resourceVersion, so two candidates never both win.
 *
 * <p>On {@link #close()} a leader stops leading and, with {@code releaseOnCancel}, releases the
 * Lease (empty holder) so another candidate takes it at once. A leader that lost the Lease becomes
 * a candidate again.
 */
public final class LeaderElector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderElector.class);
  private static final DateTimeFormatter MICRO_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** Where the Lease is, who this candidate is, and the timing (client-go: 15 s, 10 s, 2 s). */
  public record Config(
      String namespace,
      String name,
      String identity,
      Duration leaseDuration,
      Duration renewDeadline,
      Duration retryPeriod,
      boolean releaseOnCancel) {
    public Config {
      if (!(leaseDuration.compareTo(renewDeadline) > 0)) {
        throw new IllegalArgumentException("leaseDuration must be greater than renewDeadline");
      }
      if (!(renewDeadline.compareTo(retryPeriod) > 0)) {
        throw new IllegalArgumentException("renewDeadline must be greater than retryPeriod");
      }
      if (identity == null || identity.isEmpty()) {
        throw new IllegalArgumentException("a leader election candidate needs an identity");
      }
    }

    public static Config defaults(String namespace, String name, String identity) {
      return new Config(
          namespace,
          name,
          identity,
          Duration.ofSeconds(15),
          Duration.ofSeconds(10),
          Duration.ofSeconds(2),
          true);
    }
  }

  /** What the elected code is told. Called on a callback thread, one at a time. */
  public interface Callbacks {
    void onStartedLeading();

    void onStoppedLeading();

    /** The Lease is held by someone else than observed before (or by us). */
    default void onNewLeader(String identity) {}
  }

  private final KubeClient client;
  private final Config config;
  private final Callbacks callbacks;
  private final Clock wall;
  private final ExecutorService callbackThread;
  private final Thread loop;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition stop = lock.newCondition();
  private volatile boolean closed;
  private volatile boolean leading;
  private volatile String observedHolder;
  private String observedRaw;
  private long observedAtNanos;

  public LeaderElector(KubeClient client, Config config, Callbacks callbacks, Clock wall) {
    this.client = client;
    this.config = config;
    this.callbacks = callbacks;
    this.wall = wall;
    this.callbackThread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "leader-cb-" + config.identity());
              t.setDaemon(true);
              return t;
            });
    this.loop = new Thread(this::run, "leader-" + config.identity());
    this.loop.setDaemon(true);
  }

  public LeaderElector(KubeClient client, Config config, Callbacks callbacks) {
    this(client, config, callbacks, Clock.systemUTC());
  }

  public void start() {
    loop.start();
  }

  public boolean isLeader() {
    return leading;
  }

  /** The holder this candidate last saw in the Lease (null before the first look). */
  public String observedLeader() {
    return observedHolder;
  }

  private String who() {
    return config.identity() + " on lease " + config.namespace() + "/" + config.name();
  }

  private void run() {
    while (!closed) {
      LOG.info("{}: candidate, trying to acquire", who());
      while (!closed && !tryAcquireOrRenew()) {
        pause(config.retryPeriod());
      }
      if (closed) {
        break;
      }
      leading = true;
      LOG.info("{}: acquired, now leading", who());
      callbackThread.execute(callbacks::onStartedLeading);
      long lastRenew = System.nanoTime();
      while (!closed) {
        pause(config.retryPeriod());
        if (closed) {
          break;
        }
        if (tryAcquireOrRenew()) {
          lastRenew = System.nanoTime();
        } else if (System.nanoTime() - lastRenew > config.renewDeadline().toNanos()) {
          LOG.warn(
              "{}: could not renew for {} ms (renew deadline), stopping to lead",
              who(),
              config.renewDeadline().toMillis());
          break;
        }
      }
      leading = false;
      if (closed && config.releaseOnCancel()) {
        release();
      }
      LOG.info("{}: stopped leading", who());
      callbackThread.execute(callbacks::onStoppedLeading);
    }
  }

  private void pause(Duration d) {
    lock.lock();
    try {
      if (!closed) {
        stop.await(d.toNanos(), TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    } finally {
      lock.unlock();
    }
  }

  private long leaseSeconds() {
    return Math.max(1, (config.leaseDuration().toMillis() + 999) / 1000);
  }

  private ObjectNode spec(String holder, Instant acquire, Instant renew, long transitions) {
    ObjectNode s = KubeClient.JSON.createObjectNode();
    s.put("holderIdentity", holder);
    s.put("leaseDurationSeconds", leaseSeconds());
    s.put("acquireTime", MICRO_TIME.format(acquire));
    s.put("renewTime", MICRO_TIME.format(renew));
    s.put("leaseTransitions", transitions);
    return s;
  }

  /** One attempt: create, renew or take over the Lease. True if we hold it afterwards. */
  boolean tryAcquireOrRenew() {
    Instant now = wall.instant();
    try {
      ObjectNode lease;
      try {
        lease = client.get(Resource.LEASES, config.namespace(), config.name());
      } catch (ApiException e) {
        if (!e.isNotFound()) {
          throw e;
        }
        ObjectNode l = KubeClient.JSON.createObjectNode();
        l.put("apiVersion", "coordination.k8s.io/v1").put("kind", "Lease");
        l.putObject("metadata").put("name", config.name()).put("namespace", config.namespace());
        l.set("spec", spec(config.identity(), now, now, 0));
        ObjectNode created = client.create(Resource.LEASES, config.namespace(), l);
        observe(created.path("spec"));
        return true;
      }
      JsonNode old = lease.path("spec");
      observe(old);
      String holder = old.path("holderIdentity").asText("");
      boolean ours = holder.equals(config.identity());
      if (!holder.isEmpty()
          && !ours
          && System.nanoTime() - observedAtNanos < config.leaseDuration().toNanos()) {
        return false;
      }
      if (!ours) {
        LOG.info(
            "{}: trying to take over from {}",
            who(),
            holder.isEmpty() ? "nobody (released)" : holder + " (lease expired)");
      }
      Instant acquire =
          ours && old.hasNonNull("acquireTime")
              ? Instant.parse(old.path("acquireTime").asText())
              : now;
      long transitions = old.path("leaseTransitions").asLong(0) + (ours ? 0 : 1);
      lease.set("spec", spec(config.identity(), acquire, now, transitions));
      ObjectNode updated = client.update(Resource.LEASES, lease);
      observe(updated.path("spec"));
      return true;
    } catch (ApiException e) {
      if (e.isConflict()) {
        LOG.debug("{}: lost a race for the lease: {}", who(), e.getMessage());
      } else {
        LOG.warn("{}: cannot acquire or renew: {}", who(), e.getMessage());
      }
      return false;
    } catch (UncheckedIOException e) {
      LOG.warn("{}: cannot reach the API server: {}", who(), e.getMessage());
      return false;
    }
  }

  private void observe(JsonNode spec) {
    String raw = spec.toString();
    if (!raw.equals(observedRaw)) {
      observedRaw = raw;
      observedAtNanos = System.nanoTime();
      String holder = spec.path("holderIdentity").asText("");
      if (!holder.equals(observedHolder)) {
        observedHolder = holder;
        if (!holder.isEmpty()) {
          LOG.info("{}: leader is now {}", who(), holder);
          callbackThread.execute(() -> callbacks.onNewLeader(holder));
        }
      }
    }
  }

  /** Gives the Lease up: empty holder, so the next candidate takes it without waiting. */
  private void release() {
    try {
      ObjectNode lease = client.get(Resource.LEASES, config.namespace(), config.name());
      JsonNode old = lease.path("spec");
      if (!config.identity().equals(old.path("holderIdentity").asText())) {
        return;
      }
      Instant now = wall.instant();
      ObjectNode s = spec("", now, now, old.path("leaseTransitions").asLong(0));
      s.put("leaseDurationSeconds", 1);
      lease.set("spec", s);
      client.update(Resource.LEASES, lease);
      LOG.info("{}: released", who());
    } catch (ApiException | UncheckedIOException e) {
      LOG.warn(
          "{}: could not release ({}); others take over after {} s",
          who(),
          e.getMessage(),
          leaseSeconds());
    }
  }

  /** Stops: a leader stops leading (and releases with releaseOnCancel); waits for the loop. */
  @Override
  public void close() {
    closed = true;
    lock.lock();
    try {
      stop.signalAll();
    } finally {
      lock.unlock();
    }
    if (loop.isAlive() && Thread.currentThread() != loop) {
      try {
        loop.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    callbackThread.shutdown();
  }

  @Override
  public String toString() {
    return "LeaderElector{" + who() + ", leading=" + leading + "}";
  }
}

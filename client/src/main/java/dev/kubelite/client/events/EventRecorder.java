package dev.kubelite.client.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events about objects, as client-go's event recorder does: one Event per (object,
 * type, reason, message); the same event again within ten minutes bumps the existing Event's {@code
 * count} and {@code lastTimestamp} instead of creating another. Many similar events about one
 * object are folded into one, and a burst of them is cut short ({@link EventCorrelator}). Each
 * event is also logged at INFO, whether written or not, so a person following the logs sees what a
 * component did and why.
 *
 * <p>Writing happens on one background thread: a component never waits for, or fails because of, an
 * event (Kubernetes treats events as best effort too); a failed write is logged with its cause. At
 * most {@value #MAX_QUEUED} events wait to be written (client-go's broadcaster keeps as many);
 * beyond that an event is dropped rather than held in memory, and the drops are counted in a
 * warning at most every ten seconds. The log line of every event is written either way.
 */
public final class EventRecorder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);

  /** How long a repeated event updates the existing Event rather than creating a new one. */
  static final long AGGREGATION_SECONDS = 600;

  /** At most this many events wait for the writer; more are dropped. */
  static final int MAX_QUEUED = 1000;

  /** At most this many remembered events; the oldest is forgotten first. */
  private static final int MAX_REMEMBERED = 4096;

  public static final String NORMAL = "Normal";
  public static final String WARNING = "Warning";

  private final KubeClient client;
  private final String component;
  private final String host;
  private final Clock clock;
  private final ExecutorService writer;
  private final Map<String, Seen> seen;
  private final EventCorrelator correlator;
  private final AtomicLong spamFiltered;
  private final Drops drops;

  /** Events dropped because the queue was full, reported at most every ten seconds. */
  private static final class Drops {
    private static final long REPORT_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    private final AtomicLong unreported = new AtomicLong();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong lastReport = new AtomicLong(System.nanoTime() - REPORT_EVERY_NANOS);

    void drop(String component) {
      unreported.incrementAndGet();
      total.incrementAndGet();
      long now = System.nanoTime();
      long last = lastReport.get();
      if (now - last >= REPORT_EVERY_NANOS && lastReport.compareAndSet(last, now)) {
        long count = unreported.getAndSet(0);
        log.warn(
            "event recorder {}: dropped {} event(s): more than {} were waiting to be written (the"
                + " API server is slow or unreachable); their log lines above still stand",
            component,
            count,
            MAX_QUEUED);
      }
    }
  }

  private static Map<String, Seen> newSeen() {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
        return size() > MAX_REMEMBERED;
      }
    };
  }

  private record Seen(String namespace, String name, int count, Instant first) {}

  /**
   * @param component the {@code source.component} and {@code reportingComponent}, e.g.
   *     "default-scheduler", "replicaset-controller", "kubelet"
   * @param host the {@code source.host} (a kubelet's node name), or null
   */
  public EventRecorder(KubeClient client, String component, String host) {
    this(client, component, host, Clock.systemUTC());
  }

  EventRecorder(KubeClient client, String component, String host, Clock clock) {
    this.client = client;
    this.component = component;
    this.host = host;
    this.clock = clock;
    this.writer =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED),
            r -> {
              Thread t = new Thread(r, "events-" + component);
              t.setDaemon(true);
              return t;
            });
    this.seen = newSeen();
    this.correlator = new EventCorrelator();
    this.spamFiltered = new AtomicLong();
    this.drops = new Drops();
  }

  private EventRecorder(EventRecorder parent, String host) {
    this.client = parent.client;
    this.component = parent.component;
    this.host = host;
    this.clock = parent.clock;
    this.writer = parent.writer;
    this.seen = parent.seen;
    this.correlator = parent.correlator;
    this.spamFiltered = parent.spamFiltered;
    this.drops = parent.drops;
  }

  /**
   * A recorder for the same component on another {@code source.host} that shares this recorder's
   * writer thread and aggregation memory: one thread for the events of many simulated nodes.
   * Closing either closes the shared writer.
   */
  public EventRecorder withHost(String otherHost) {
    return new EventRecorder(this, otherHost);
  }

  /** Records a {@link #NORMAL} event. */
  public void normal(JsonNode involved, String reason, String message) {
    event(involved, NORMAL, reason, message);
  }

  /** Records a {@link #WARNING} event. */
  public void warning(JsonNode involved, String reason, String message) {
    event(involved, WARNING, reason, message);
  }

  /**
   * Records an event about {@code involved} (a full object: its kind, apiVersion and metadata are
   * referenced). Returns at once; the write happens in the background.
   */
  public void event(JsonNode involved, String type, String reason, String message) {
    String kind = involved.path("kind").asText("");
    log.info("{} {} {}: {} {}: {}", component, kind, Meta.key(involved), type, reason, message);
    ObjectNode ref = reference(involved);
    try {
      writer.execute(() -> write(ref, type, reason, message));
    } catch (RejectedExecutionException e) {
      if (writer.isShutdown()) {
        log.warn(
            "event {} about {} not written: the recorder is closed", reason, Meta.key(involved));
      } else {
        drops.drop(component);
      }
    }
  }

  private static ObjectNode reference(JsonNode o) {
    ObjectNode ref = KubeClient.JSON.createObjectNode();
    ref.put("kind", o.path("kind").asText(""));
    if (Meta.namespace(o) != null) {
      ref.put("namespace", Meta.namespace(o));
    }
    ref.put("name", Meta.name(o));
    if (Meta.uid(o) != null) {
      ref.put("uid", Meta.uid(o));
    }
    ref.put("apiVersion", o.path("apiVersion").asText(""));
    if (Meta.resourceVersion(o) != null) {
      ref.put("resourceVersion", Meta.resourceVersion(o));
    }
    return ref;
  }

  private void write(ObjectNode ref, String type, String reason, String message) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    String objectKey =
        component
            + "\u0000"
            + (host == null ? "" : host)
            + "\u0000"
            + ref.path("kind").asText()
            + "\u0000"
            + ref.path("uid")
                .asText(ref.path("namespace").asText("") + "/" + ref.path("name").asText());
    EventCorrelator.Decision d;
    synchronized (correlator) {
      d = correlator.correlate(objectKey, type, reason, message, now);
    }
    if (d == null) {
      spamFiltered.incrementAndGet();
      return; // more events about this object than the spam filter lets through
    }
    String key = d.key();
    Seen before;
    synchronized (seen) {
      before = seen.get(key);
    }
    try {
      if (before != null && before.first.plusSeconds(AGGREGATION_SECONDS).isAfter(now)) {
        int count = before.count + 1;
        ObjectNode patch = KubeClient.JSON.createObjectNode();
        patch.put("count", count).put("lastTimestamp", now.toString()).put("message", d.message());
        try {
          client.patch(Resource.EVENTS, before.namespace, before.name, PatchType.MERGE, patch);
          remember(key, new Seen(before.namespace, before.name, count, before.first));
          return;
        } catch (ApiException e) {
          if (!e.isNotFound()) {
            throw e;
          }
          // The Event expired or was deleted: create a new one below.
        }
      }
      ObjectNode ev = newEvent(ref, type, reason, d.message(), now);
      ObjectNode created = client.create(Resource.EVENTS, Meta.namespace(ev), ev);
      remember(key, new Seen(Meta.namespace(created), Meta.name(created), 1, now));
    } catch (RuntimeException e) {
      log.warn(
          "cannot write event {} about {} {}/{}: {}",
          reason,
          ref.path("kind").asText(),
          ref.path("namespace").asText(""),
          ref.path("name").asText(),
          e.toString());
    }
  }

  private void remember(String key, Seen s) {
    synchronized (seen) {
      seen.put(key, s);
    }
  }

  private ObjectNode newEvent(
      ObjectNode ref, String type, String reason, String message, Instant now) {
    // Events of cluster-scoped objects (nodes) live in "default", as in Kubernetes.
    String namespace = ref.path("namespace").asText("");
    if (namespace.isEmpty()) {
      namespace = "default";
    }
    ObjectNode ev = KubeClient.JSON.createObjectNode();
    ev.put("apiVersion", "v1").put("kind", "Event");
    ev.putObject("metadata")
        .put("name", ref.path("name").asText() + "." + Long.toHexString(nanos()))
        .put("namespace", namespace);
    ev.set("involvedObject", ref);
    ev.put("reason", reason).put("message", message).put("type", type);
    ObjectNode source = ev.putObject("source").put("component", component);
    if (host != null) {
      source.put("host", host);
    }
    ev.put("firstTimestamp", now.toString()).put("lastTimestamp", now.toString()).put("count", 1);
    ev.put("reportingComponent", component).put("reportingInstance", host == null ? "" : host);
    return ev;
  }

  private long nanos() {
    Instant i = clock.instant();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }

  /** How many events the spam filter kept from being written (see {@link EventCorrelator}). */
  public long spamFilteredEvents() {
    return spamFiltered.get();
  }

  /** How many events were dropped so far because too many were waiting to be written. */
  public long droppedEvents() {
    return drops.total.get();
  }

  /** Writes what is queued (for at most five seconds), then stops. */
  @Override
  public void close() {
    writer.shutdown();
    try {
      if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("event recorder {}: events still queued after 5 s were dropped", component);
        writer.shutdownNow();
      }
    } catch (InterruptedException e) {
      writer.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}

package dev.kubelite.controller.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.PatchType;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.testing.Cluster;
import dev.kubelite.controller.Controller;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real API server over a real in-process store, the controllers under test, and a fake kubelet
 * (there is no kubelet yet): it marks the pods of a namespace Running and Ready through {@code
 * /status}, after a delay, while enabled.
 */
public final class ControllerFixture implements AutoCloseable {
  public final Cluster cluster;
  public final KubeClient client;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private static final AtomicInteger namespaces = new AtomicInteger();

  public ControllerFixture() throws Exception {
    this(new Cluster());
  }

  /** Over a cluster of the caller's (e.g. one whose API server reads a slow store). */
  public ControllerFixture(Cluster cluster) {
    this.cluster = cluster;
    client = cluster.client();
  }

  /** Starts {@code c} without waiting for its informers (it is closed with the fixture). */
  public <C extends Controller> C startNoWait(C c) {
    closeables.add(c);
    c.start();
    return c;
  }

  /** Starts {@code c} and waits until its informers have synced. */
  public <C extends Controller> C start(C c) {
    closeables.add(c);
    c.start();
    await().atMost(Duration.ofSeconds(30)).until(c::hasSynced);
    return c;
  }

  public String namespace(String prefix) {
    String name = prefix + "-" + namespaces.incrementAndGet();
    ObjectNode ns = KubeClient.JSON.createObjectNode();
    ns.put("apiVersion", "v1").put("kind", "Namespace").putObject("metadata").put("name", name);
    client.create(Resource.NAMESPACES, null, ns);
    return name;
  }

  /** A fake kubelet for one namespace. */
  public Kubelet kubelet(String namespace, Duration readyAfter) {
    Kubelet k = new Kubelet(namespace, readyAfter);
    closeables.add(k);
    return k;
  }

  public final class Kubelet implements AutoCloseable {
    public final AtomicBoolean enabled = new AtomicBoolean(true);
    private final Informer pods;
    private final Duration readyAfter;
    private final ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "fake-kubelet");
              t.setDaemon(true);
              return t;
            });

    Kubelet(String namespace, Duration readyAfter) {
      this.readyAfter = readyAfter;
      pods = new Informer(client, Resource.PODS, namespace, Informer.Options.defaults());
      pods.addEventHandler(EventHandler.onAddOrUpdate(this::consider));
      pods.start();
      await().atMost(Duration.ofSeconds(30)).until(pods::hasSynced);
    }

    private void consider(ObjectNode pod) {
      if (!enabled.get() || Meta.isBeingDeleted(pod) || isReady(pod)) {
        return;
      }
      timer.schedule(
          () -> {
            if (enabled.get()) {
              markReady(Meta.namespace(pod), Meta.name(pod));
            }
          },
          readyAfter.toMillis(),
          TimeUnit.MILLISECONDS);
    }

    /** Runs every pod not yet ready (after enabling again). */
    public void catchUp() {
      pods.indexer().list().forEach(this::consider);
    }

    @Override
    public void close() {
      timer.shutdownNow();
      pods.close();
    }
  }

  public static boolean isReady(JsonNode pod) {
    for (JsonNode c : pod.path("status").path("conditions")) {
      if ("Ready".equals(c.path("type").asText()) && "True".equals(c.path("status").asText())) {
        return true;
      }
    }
    return false;
  }

  /** Plays kubelet for one pod: phase Running, conditions Ready/ContainersReady True. */
  public void markReady(String namespace, String name) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    ObjectNode patch = KubeClient.JSON.createObjectNode();
    ObjectNode status = patch.putObject("status");
    status.put("phase", "Running").put("startTime", now);
    for (String type : List.of("PodScheduled", "Initialized", "ContainersReady", "Ready")) {
      status
          .withArray("conditions")
          .addObject()
          .put("type", type)
          .put("status", "True")
          .put("lastTransitionTime", now);
    }
    try {
      client.patchStatus(Resource.PODS, namespace, name, PatchType.MERGE, patch);
    } catch (ApiException e) {
      if (!e.isNotFound()) {
        throw e;
      }
    }
  }

  public List<ObjectNode> list(Resource r, String namespace, String labelSelector) {
    ObjectNode l =
        client.list(
            r,
            namespace,
            labelSelector == null ? ListOptions.NONE : ListOptions.labels(labelSelector));
    List<ObjectNode> out = new ArrayList<>();
    l.path("items").forEach(i -> out.add((ObjectNode) i));
    return out;
  }

  /** Events about {@code name} with {@code reason}, their messages. */
  public List<String> events(String namespace, String name, String reason) {
    ObjectNode l =
        client.list(
            Resource.EVENTS,
            namespace,
            ListOptions.fields("involvedObject.name=" + name + ",reason=" + reason));
    List<String> out = new ArrayList<>();
    l.path("items").forEach(i -> out.add(i.path("message").asText()));
    return out;
  }

  public static ObjectNode json(String s) {
    try {
      return (ObjectNode) KubeClient.JSON.readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new IllegalArgumentException("bad JSON in test: " + s, e);
    }
  }

  @Override
  public void close() {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        throw new IllegalStateException("cannot stop " + closeables.get(i), e);
      }
    }
    cluster.close();
  }
}

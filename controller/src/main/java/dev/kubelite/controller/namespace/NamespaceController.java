package dev.kubelite.controller.namespace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.Discovery;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.cache.EventHandler;
import dev.kubelite.client.cache.Informer;
import dev.kubelite.client.workqueue.ReconcileLoop;
import dev.kubelite.controller.Controller;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The namespace controller, as kube-controller-manager's: a namespace being deleted (phase {@code
 * Terminating}, {@code deletionTimestamp} set, finalizer {@code kubernetes} in {@code
 * spec.finalizers}) has everything in it deleted — every namespaced resource discovery lists that
 * can be listed and deleted — with its status conditions saying what is left; once nothing is left
 * the {@code kubernetes} finalizer is removed through {@code namespaces/<name>/finalize}, and the
 * API server deletes the namespace.
 */
public final class NamespaceController implements Controller {
  /** The name {@code --controllers} and the logs use. */
  public static final String NAME = "namespace";

  private static final Logger log = LoggerFactory.getLogger(NamespaceController.class);

  /** The finalizer this controller owns in a namespace's {@code spec.finalizers}. */
  public static final String FINALIZER = "kubernetes";

  /**
   * @param workers concurrent namespaces ({@code --concurrent-namespace-syncs}, 10 in Kubernetes)
   * @param recheckPeriod how soon a namespace whose content is still going away (graceful pod
   *     deletion, finalizers) is looked at again
   * @param resyncPeriod how often every namespace is checked again ({@code
   *     --namespace-sync-period}, 5 minutes in Kubernetes)
   */
  public record Options(int workers, Duration recheckPeriod, Duration resyncPeriod) {
    public static Options defaults() {
      return new Options(4, Duration.ofSeconds(5), Duration.ofMinutes(5));
    }
  }

  private final KubeClient client;
  private final Options options;
  private final Clock clock;
  private final Informer namespaces;
  private final ReconcileLoop loop;
  private final Map<String, String> lastSummary = new java.util.concurrent.ConcurrentHashMap<>();

  public NamespaceController(KubeClient client, Options options) {
    this.client = client;
    this.options = options;
    this.clock = Clock.systemUTC();
    this.namespaces =
        new Informer(
            client,
            Resource.NAMESPACES,
            null,
            Informer.Options.defaults().withResync(options.resyncPeriod()));
    this.loop = new ReconcileLoop("namespace", options.workers(), this::reconcile);
    namespaces.addEventHandler(EventHandler.onAddOrUpdate(this::enqueueIfDeleting));
  }

  private void enqueueIfDeleting(ObjectNode ns) {
    if (Meta.isBeingDeleted(ns)) {
      loop.enqueue(Meta.name(ns));
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start() {
    namespaces.start();
    loop.start(namespaces);
  }

  @Override
  public boolean hasSynced() {
    return namespaces.hasSynced();
  }

  @Override
  public void close() {
    loop.close();
    namespaces.close();
  }

  /** What is left in a namespace after one deletion pass. */
  private record Remaining(
      Map<String, Integer> byResource, Map<String, Integer> byFinalizer, List<String> failures) {
    int total() {
      return byResource.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  void reconcile(String name) {
    ObjectNode ns;
    try {
      // The live object: the cache may hold a namespace that is gone already.
      ns = client.get(Resource.NAMESPACES, null, name);
    } catch (ApiException e) {
      if (e.isNotFound()) {
        return;
      }
      throw e;
    }
    if (!Meta.isBeingDeleted(ns)) {
      return;
    }
    if (!hasFinalizer(ns)) {
      // Another finalizer holds it (or it is on its way out): nothing of ours left to do.
      return;
    }
    Discovery discovery;
    List<String> discoveryFailure = new ArrayList<>();
    try {
      discovery = Discovery.load(client);
    } catch (RuntimeException e) {
      discoveryFailure.add(e.getMessage());
      discovery = null;
    }
    Remaining left =
        discovery == null
            ? new Remaining(Map.of(), Map.of(), List.of())
            : deleteContent(name, discovery);
    ns = updateConditions(ns, discoveryFailure, left);
    if (!discoveryFailure.isEmpty() || !left.failures().isEmpty() || left.total() > 0) {
      String summary =
          String.format(
              "terminating, %d object(s) left (%s%s%s) → deleted what could be, checking again"
                  + " in %d ms",
              left.total(),
              describe(left.byResource()),
              left.byFinalizer().isEmpty() ? "" : "; finalizers " + describe(left.byFinalizer()),
              left.failures().isEmpty() && discoveryFailure.isEmpty()
                  ? ""
                  : "; failures: " + String.join("; ", concat(discoveryFailure, left.failures())),
              options.recheckPeriod().toMillis());
      // One INFO line when what is left changes; the same picture again is only DEBUG.
      if (summary.equals(lastSummary.put(name, summary))) {
        log.debug("namespace-controller {}: {}", name, summary);
      } else {
        log.info("namespace-controller {}: {}", name, summary);
      }
      loop.enqueueAfter(name, options.recheckPeriod());
      return;
    }
    lastSummary.remove(name);
    finalizeNamespace(ns);
    log.info(
        "namespace-controller {}: terminating, all content removed → removed the {} finalizer"
            + " (namespace deleted)",
        name,
        FINALIZER);
  }

  private static boolean hasFinalizer(JsonNode ns) {
    for (JsonNode f : ns.path("spec").path("finalizers")) {
      if (f.asText().equals(FINALIZER)) {
        return true;
      }
    }
    return false;
  }

  /** Deletes every object of every namespaced resource in the namespace; returns what remains. */
  private Remaining deleteContent(String ns, Discovery discovery) {
    Map<String, Integer> byResource = new TreeMap<>();
    Map<String, Integer> byFinalizer = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    ObjectNode background = KubeClient.JSON.createObjectNode();
    background.put("kind", "DeleteOptions").put("apiVersion", "v1");
    background.put("propagationPolicy", "Background");
    for (Discovery.ApiResource r : discovery.resources()) {
      Resource res = r.resource();
      if (!res.namespaced() || !r.supports("list", "delete")) {
        continue;
      }
      try {
        JsonNode items = client.list(res, ns, ListOptions.NONE).path("items");
        int remaining = 0;
        for (JsonNode item : items) {
          String name = Meta.name(item);
          ObjectNode opts = background.deepCopy();
          opts.putObject("preconditions").put("uid", Meta.uid(item));
          try {
            ObjectNode after = client.delete(res, ns, name, opts);
            if (!"Status".equals(after.path("kind").asText())) {
              // Deletion pending (a grace period, finalizers): still there for now.
              remaining++;
              for (JsonNode f : after.path("metadata").path("finalizers")) {
                byFinalizer.merge(f.asText(), 1, Integer::sum);
              }
            }
          } catch (ApiException e) {
            if (!e.isNotFound() && !e.isConflict()) {
              throw e;
            }
          }
        }
        if (remaining > 0) {
          byResource.put(res.resource() + "." + res.group(), remaining);
        }
      } catch (RuntimeException e) {
        failures.add(res + ": " + e.getMessage());
      }
    }
    return new Remaining(byResource, byFinalizer, failures);
  }

  /**
   * Writes the five deletion conditions Kubernetes keeps on a terminating namespace (through {@code
   * namespaces/<name>/status}), keeping each condition's {@code lastTransitionTime} while its
   * status stays.
   */
  private ObjectNode updateConditions(
      ObjectNode ns, List<String> discoveryFailure, Remaining left) {
    Map<String, String[]> wanted = new LinkedHashMap<>();
    wanted.put(
        "NamespaceDeletionDiscoveryFailure",
        discoveryFailure.isEmpty()
            ? ok("ResourcesDiscovered", "All resources successfully discovered")
            : bad("DiscoveryFailed", "Discovery failed: " + String.join("; ", discoveryFailure)));
    wanted.put(
        "NamespaceDeletionGroupVersionParsingFailure",
        ok("ParsedGroupVersions", "All legacy kube types successfully parsed"));
    wanted.put(
        "NamespaceDeletionContentFailure",
        left.failures().isEmpty()
            ? ok(
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization")
            : bad(
                "ContentDeletionFailed",
                "Failed to delete all resource types, "
                    + left.failures().size()
                    + " remaining: "
                    + String.join(", ", left.failures())));
    List<String> resources = new ArrayList<>();
    left.byResource().forEach((r, n) -> resources.add(r + " has " + n + " resource instances"));
    wanted.put(
        "NamespaceContentRemaining",
        resources.isEmpty()
            ? ok("ContentRemoved", "All content successfully removed")
            : bad(
                "SomeResourcesRemain",
                "Some resources are remaining: " + String.join(", ", resources)));
    List<String> fins = new ArrayList<>();
    left.byFinalizer().forEach((f, n) -> fins.add(f + " in " + n + " resource instances"));
    wanted.put(
        "NamespaceFinalizersRemaining",
        fins.isEmpty()
            ? ok("ContentHasNoFinalizers", "All content-preserving finalizers finished")
            : bad(
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: "
                    + String.join(", ", fins)));

    Map<String, JsonNode> existing = new LinkedHashMap<>();
    ns.path("status").path("conditions").forEach(c -> existing.put(c.path("type").asText(), c));
    String now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    ArrayNode conditions = KubeClient.JSON.createArrayNode();
    boolean changed = false;
    for (Map.Entry<String, String[]> e : wanted.entrySet()) {
      JsonNode old = existing.remove(e.getKey());
      String[] v = e.getValue();
      ObjectNode c = conditions.addObject();
      c.put("type", e.getKey());
      c.put("status", v[0]);
      boolean same = old != null && old.path("status").asText().equals(v[0]);
      c.put("lastTransitionTime", same ? old.path("lastTransitionTime").asText(now) : now);
      c.put("reason", v[1]);
      c.put("message", v[2]);
      if (old == null
          || !same
          || !old.path("reason").asText().equals(v[1])
          || !old.path("message").asText().equals(v[2])) {
        changed = true;
      }
    }
    existing.values().forEach(conditions::add);
    if (!changed) {
      return ns;
    }
    ObjectNode updated = ns.deepCopy();
    child(updated, "status").set("conditions", conditions);
    try {
      return client.updateStatus(Resource.NAMESPACES, updated);
    } catch (ApiException e) {
      if (e.isConflict()) {
        // Changed meanwhile; the next pass writes the conditions again.
        return ns;
      }
      throw e;
    }
  }

  private static String[] ok(String reason, String message) {
    return new String[] {"False", reason, message};
  }

  private static String[] bad(String reason, String message) {
    return new String[] {"True", reason, message};
  }

  /** Removes our finalizer through {@code namespaces/<name>/finalize}, retried on conflicts. */
  private void finalizeNamespace(ObjectNode ns) {
    ObjectNode current = ns;
    for (int attempt = 0; ; attempt++) {
      ArrayNode kept = KubeClient.JSON.createArrayNode();
      for (JsonNode f : current.path("spec").path("finalizers")) {
        if (!f.asText().equals(FINALIZER)) {
          kept.add(f);
        }
      }
      ObjectNode wanted = current.deepCopy();
      child(wanted, "spec").set("finalizers", kept);
      try {
        client.subresource("PUT", Resource.NAMESPACES, null, Meta.name(ns), "finalize", wanted);
        return;
      } catch (ApiException e) {
        if (e.isNotFound()) {
          return;
        }
        if (!e.isConflict() || attempt >= 10) {
          throw e;
        }
        current = client.get(Resource.NAMESPACES, null, Meta.name(ns));
      }
    }
  }

  private static ObjectNode child(ObjectNode o, String field) {
    JsonNode n = o.get(field);
    return n instanceof ObjectNode on ? on : o.putObject(field);
  }

  private static String describe(Map<String, Integer> counts) {
    List<String> out = new ArrayList<>();
    counts.forEach(
        (k, n) -> out.add((k.endsWith(".") ? k.substring(0, k.length() - 1) : k) + " " + n));
    return String.join(", ", out);
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}

package dev.kubelite.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.ListOptions;
import dev.kubelite.client.Meta;
import dev.kubelite.client.Resource;
import dev.kubelite.client.Watch;
import dev.kubelite.client.WatchEvent;
import dev.kubelite.controller.ControllerManagerCommand;
import dev.kubelite.kubelet.KubeletCommand;
import dev.kubelite.scheduler.SchedulerCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole control plane under one large Deployment: the API server (with its embedded
 * single-member store, fsync on, as {@code kubelite up} runs it), the scheduler, the controller
 * manager and one kubelet process hosting {@code --nodes} simulated nodes, each a separate JVM on
 * 127.0.0.1 (so that memory and CPU are measured per component), no leader election. Once every
 * node is Ready, one Deployment of {@code --replicas} pods is created and one watch on pods, opened
 * by the benchmark before the create, timestamps each pod's first appearance, its binding ({@code
 * spec.nodeName} set) and its Running phase, as the benchmark receives them.
 */
@Command(
    name = "cluster-bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmarks the control plane end to end: a Deployment of --replicas pods on --nodes"
            + " simulated nodes, components as separate processes; prints pods/s created,"
            + " scheduled and Running, create-to-bound latency, and memory and CPU per component.")
public final class ClusterBench implements Callable<Integer> {

  @Option(
      names = "--nodes",
      description = "Simulated nodes, all in one kubelet process (default: ${DEFAULT-VALUE}).")
  int nodes = 1000;

  @Option(
      names = "--replicas",
      description = "Replicas of the one Deployment (default: ${DEFAULT-VALUE}).")
  int replicas = 10_000;

  @Option(
      names = "--timeout",
      description =
          "Seconds to wait for all pods to be Running before giving up (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds = 600;

  @Option(
      names = "--jvm-opt",
      description =
          "A JVM option for every component process (repeatable), e.g. --jvm-opt=-Xmx2g; default:"
              + " none (the JVM's own heap sizing).")
  List<String> jvmOpts = new ArrayList<>();

  @Option(
      names = "--work-dir",
      description =
          "Where the store's data and the components' logs go (default: a fresh temporary"
              + " directory, removed afterwards unless --keep-work-dir).")
  Path workDir;

  @Option(
      names = "--keep-work-dir",
      description = "Keep the data and the components' logs after the run.")
  boolean keepWorkDir;

  @Option(
      names = "--audit",
      description =
          "Write the API server's audit log (every request at Metadata level) to the work dir and"
              + " print the requests per pod by component, verb and resource (the audit log costs"
              + " the API server CPU: not for timing runs).")
  boolean audit;

  /** What is timed. */
  enum Workload {
    /** One Deployment: the controllers create the pods, the scheduler binds them as they come. */
    DEPLOYMENT,
    /**
     * Bare pods created by the benchmark ({@link #CREATORS} connections) before the scheduler
     * starts, then scheduled: the scheduler alone, not paced by the ReplicaSet controller.
     */
    PODS
  }

  @Option(
      names = "--workload",
      description =
          "DEPLOYMENT (one Deployment of --replicas pods) or PODS (--replicas bare pods created by"
              + " the benchmark before the scheduler starts, to time the scheduler alone)"
              + " (default: ${DEFAULT-VALUE}).")
  Workload workload = Workload.DEPLOYMENT;

  static final int CREATORS = 16;

  static final String NAMESPACE = "cluster-bench";
  static final String NAME = "bench";

  /** One component process. */
  record Component(String name, Process process, Path log) {}

  private final List<Component> components = new ArrayList<>();

  /** Wall-clock bounds of the timed run (for the audit log). */
  private Instant runStart;

  private Instant runEnd;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ClusterBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (nodes < 1 || replicas < 1 || timeoutSeconds < 1) {
      System.err.println("cluster-bench: --nodes, --replicas and --timeout must be at least 1");
      return 2;
    }
    Path work = workDir != null ? workDir : Files.createTempDirectory("cluster-bench");
    Files.createDirectories(work);
    try {
      int rc = run(work);
      if (audit) {
        stopAll(); // the API server flushes its audit log as it stops
        printRequestsPerPod(work.resolve("audit.log"));
      }
      return rc;
    } finally {
      stopAll();
      if (workDir == null && !keepWorkDir) {
        deleteTree(work);
      } else {
        System.out.println("data and component logs kept in " + work);
      }
    }
  }

  private int run(Path work) throws Exception {
    String load0 = loadAverage();
    long started = System.nanoTime();
    int apiPort = startApiServer(work);
    String url = "http://127.0.0.1:" + apiPort;
    start(
        work,
        "controller-manager",
        ControllerManagerCommand.class,
        "--server",
        url,
        "--leader-elect=false");
    if (workload == Workload.DEPLOYMENT) {
      startScheduler(work, url);
    }
    int podsPerNode = Math.max(110, Math.min(253, (replicas + nodes - 1) / nodes + 10));
    start(
        work,
        "kubelet",
        KubeletCommand.class,
        "--server",
        url,
        "--nodes",
        Integer.toString(nodes),
        "--pods",
        Integer.toString(podsPerNode),
        "--pod-startup-delay",
        "0s",
        "--pod-events",
        "false");
    KubeClient k = new KubeClient(URI.create(url));
    awaitReadyNodes(k, deadline(Duration.ofSeconds(Math.max(120, timeoutSeconds))));
    double upSeconds = (System.nanoTime() - started) / 1e9;
    Map<String, Usage> idle = usage();

    k.create(
        Resource.NAMESPACES,
        null,
        (ObjectNode)
            KubeClient.JSON.readTree(
                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\""
                    + NAMESPACE
                    + "\"}}"));
    PodTimeline timeline = new PodTimeline(replicas);
    String rv =
        k.list(Resource.PODS, NAMESPACE, ListOptions.NONE).at("/metadata/resourceVersion").asText();
    Thread watcher = new Thread(() -> watchPods(k, rv, timeline), "cluster-bench-watch");
    watcher.setDaemon(true);
    watcher.start();

    long t0 = System.nanoTime();
    runStart = Instant.now();
    if (workload == Workload.DEPLOYMENT) {
      k.create(Resource.DEPLOYMENTS, NAMESPACE, deployment(replicas));
    } else {
      createPods(k);
      System.out.printf(
          Locale.ROOT,
          "%d bare pods created in %.2f s; starting the scheduler%n",
          replicas,
          secs(System.nanoTime() - t0));
      startScheduler(work, url);
    }
    long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    boolean done = false;
    while (!done && System.nanoTime() < deadline) {
      checkAlive(); // a component that died fails the run now, not at the deadline
      done =
          timeline.awaitAllRunning(
              Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(1)));
    }
    long t1 = System.nanoTime();
    runEnd = Instant.now();
    Map<String, Usage> end = usage();
    String load1 = loadAverage();
    timeline.stop();
    watcher.interrupt();

    report(timeline, t0, t1, done, upSeconds, idle, end, load0, load1);
    if (!done) {
      System.out.println(
          "NOT DONE: only "
              + timeline.runningCount()
              + " of "
              + replicas
              + " pods Running after --timeout "
              + timeoutSeconds
              + " s"
              + (workDir == null && !keepWorkDir
                  ? "; run with --keep-work-dir to keep the components' logs"
                  : "; see the components' logs in " + work));
      return 1;
    }
    return 0;
  }

  // ------------------------------------------------------------------------------------ figures

  private void report(
      PodTimeline t,
      long t0,
      long t1,
      boolean done,
      double upSeconds,
      Map<String, Usage> idle,
      Map<String, Usage> end,
      String load0,
      String load1) {
    PrintFigures out = new PrintFigures();
    out.line(
        "cluster-bench: %d nodes, %s of %d replicas, %d cores, load average %s before, %s"
            + " after",
        nodes,
        workload == Workload.DEPLOYMENT ? "Deployment" : "bare pods",
        replicas,
        Runtime.getRuntime().availableProcessors(),
        load0,
        load1);
    out.line("cluster up (all nodes Ready): %.1f s", upSeconds);
    long[] created = t.sorted(t.created);
    long[] bound = t.sorted(t.bound);
    long[] running = t.sorted(t.running);
    out.line(
        "pods seen %d, bound %d, Running %d%s",
        created.length, bound.length, running.length, done ? "" : " (TIMED OUT)");
    if (running.length > 0) {
      out.line(
          "all Running after %.2f s (from %s to the last pod Running)",
          secs(running[running.length - 1] - t0), start());
    }
    out.rate("created", created, t0);
    out.rate("scheduled", bound, t0);
    out.rate("end-to-end Running", running, t0);
    if (bound.length > 0) {
      double busy = secs(bound[bound.length - 1] - bound[0]);
      double busyRate = busy > 0 ? (bound.length - 1) / busy : Double.NaN;
      out.line(
          "scheduled over the busy interval (first to last binding, %.2f s): %.0f pods/s;"
              + " target 1,000 pods/s, ratio %.2f",
          busy, busyRate, busyRate / 1000.0);
    }
    out.line(
        "pod watch events: %d, %.2f per pod (what each watcher of the namespace's pods receives)",
        t.events, (double) t.events / replicas);
    out.latency("create -> bound", t.latencies(t.created, t.bound));
    out.latency("bound -> Running", t.latencies(t.bound, t.running));
    out.latency("create -> Running", t.latencies(t.created, t.running));
    out.line(
        "%-20s %10s %11s %11s %10s %12s",
        "component", "RSS idle", "RSS end", "RSS peak", "CPU idle", "CPU run");
    for (Component c : components) {
      Usage i = idle.getOrDefault(c.name(), Usage.NONE);
      Usage e = end.getOrDefault(c.name(), Usage.NONE);
      out.line(
          "%-20s %10s %7d MiB %7d MiB %10s %10.1f s",
          c.name(),
          i == Usage.NONE ? "-" : (i.rssKib() / 1024) + " MiB",
          e.rssKib() / 1024,
          e.peakKib() / 1024,
          i == Usage.NONE ? "-" : String.format(Locale.ROOT, "%.1f s", i.cpuSeconds()),
          e.cpuSeconds() - i.cpuSeconds());
    }
    double cpuRun = 0;
    for (Component c : components) {
      cpuRun +=
          end.getOrDefault(c.name(), Usage.NONE).cpuSeconds()
              - idle.getOrDefault(c.name(), Usage.NONE).cpuSeconds();
    }
    out.line(
        "components together: %.1f s CPU in %.1f s, %.2f of %d cores",
        cpuRun, secs(t1 - t0), cpuRun / secs(t1 - t0), Runtime.getRuntime().availableProcessors());
    out.line(
        "(idle: all nodes Ready, before the workload (a scheduler started later has no idle"
            + " figures); CPU run: CPU time used from then to the end of the run)");
  }

  /**
   * Counts the audit log's requests received during the run (a watch once, when it starts; any
   * other request when it completes) by component (the User-Agent's product), verb and resource,
   * and prints each count per pod.
   */
  private void printRequestsPerPod(Path auditLog) throws IOException {
    if (runStart == null || runEnd == null || !Files.exists(auditLog)) {
      System.out.println("no audit figures: the run did not start or " + auditLog + " is missing");
      return;
    }
    Map<String, long[]> counts = new java.util.TreeMap<>();
    long total = 0;
    try (Stream<String> lines = Files.lines(auditLog)) {
      for (String line : (Iterable<String>) lines::iterator) {
        JsonNode e = KubeClient.JSON.readTree(line);
        String verb = e.path("verb").asText();
        String stage = e.path("stage").asText();
        if (!(verb.equals("watch")
            ? stage.equals("ResponseStarted")
            : stage.equals("ResponseComplete"))) {
          continue;
        }
        Instant received = Instant.parse(e.path("requestReceivedTimestamp").asText());
        if (received.isBefore(runStart) || received.isAfter(runEnd)) {
          continue;
        }
        String agent = e.path("userAgent").asText("-");
        int slash = agent.indexOf('/');
        String component = slash > 0 ? agent.substring(0, slash) : agent;
        JsonNode ref = e.path("objectRef");
        String resource =
            ref.isMissingNode()
                ? e.path("requestURI").asText()
                : ref.path("resource").asText()
                    + (ref.has("subresource") ? "/" + ref.path("subresource").asText() : "");
        int code = e.path("responseStatus").path("code").asInt();
        String key =
            String.format(
                Locale.ROOT, "%-24s %-7s %-28s %s", component, verb, resource, code / 100 + "xx");
        counts.computeIfAbsent(key, k -> new long[1])[0]++;
        total++;
      }
    }
    System.out.printf(
        Locale.ROOT,
        "requests during the run (audit log): %d, %.2f per pod%n",
        total,
        (double) total / replicas);
    System.out.printf(
        Locale.ROOT,
        "%-24s %-7s %-28s %-4s %9s %8s%n",
        "component",
        "verb",
        "resource",
        "code",
        "requests",
        "per pod");
    for (Map.Entry<String, long[]> c : counts.entrySet()) {
      System.out.printf(
          Locale.ROOT,
          "%s %9d %8.3f%n",
          c.getKey(),
          c.getValue()[0],
          (double) c.getValue()[0] / replicas);
    }
  }

  /** What the figures count from. */
  private String start() {
    return workload == Workload.DEPLOYMENT ? "the Deployment create" : "the first pod create";
  }

  static double secs(long nanos) {
    return nanos / 1e9;
  }

  /** Prints one figure per line, as {@code String.format} with the root locale. */
  final class PrintFigures {
    void line(String format, Object... args) {
      System.out.println(String.format(Locale.ROOT, format, args));
    }

    /** Pods/s of {@code times} (sorted) measured from {@code t0} to the last one. */
    void rate(String what, long[] times, long t0) {
      if (times.length == 0) {
        line("pods/s %s: none", what);
        return;
      }
      double s = secs(times[times.length - 1] - t0);
      line(
          "pods/s %s: %.0f (%d pods, the last %.2f s after %s)",
          what, times.length / s, times.length, s, start());
    }

    void latency(String what, Histogram h) {
      if (h.getTotalCount() == 0) {
        line("%s latency: no samples", what);
        return;
      }
      line(
          "%s latency: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d pods)",
          what,
          h.getValueAtPercentile(50) / 1e3,
          h.getValueAtPercentile(99) / 1e3,
          h.getMaxValue() / 1e3,
          h.getTotalCount());
    }
  }

  // ------------------------------------------------------------------------------ pod timeline

  /** When the benchmark saw each pod appear, get its node and run (System.nanoTime()). */
  static final class PodTimeline {
    final Map<String, Long> created = new HashMap<>();
    final Map<String, Long> bound = new HashMap<>();
    final Map<String, Long> running = new HashMap<>();
    private final int expected;
    private boolean stopped;
    private RuntimeException failure;

    PodTimeline(int expected) {
      this.expected = expected;
    }

    /** Watch events the benchmark's pod watch received (every pod watcher gets as many). */
    long events;

    synchronized void observe(JsonNode pod, long now) {
      events++;
      String name = Meta.name(pod);
      created.putIfAbsent(name, now);
      if (!pod.path("spec").path("nodeName").asText("").isEmpty()) {
        bound.putIfAbsent(name, now);
      }
      if (pod.path("status").path("phase").asText("").equals("Running")) {
        running.putIfAbsent(name, now);
        notifyAll();
      }
    }

    synchronized void fail(RuntimeException e) {
      failure = e;
      notifyAll();
    }

    synchronized void stop() {
      stopped = true;
    }

    synchronized boolean stopped() {
      return stopped;
    }

    synchronized int runningCount() {
      return running.size();
    }

    /** Waits until {@code expected} pods are Running; false at the deadline. */
    synchronized boolean awaitAllRunning(long deadlineNanos) throws InterruptedException {
      while (running.size() < expected) {
        if (failure != null) {
          throw failure;
        }
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }

    synchronized long[] sorted(Map<String, Long> m) {
      return m.values().stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /** Microseconds from {@code from} to {@code to}, per pod present in both. */
    synchronized Histogram latencies(Map<String, Long> from, Map<String, Long> to) {
      Histogram h = new Histogram(TimeUnit.HOURS.toMicros(1), 3);
      for (Map.Entry<String, Long> e : to.entrySet()) {
        Long start = from.get(e.getKey());
        if (start != null) {
          h.recordValue(Math.min(h.getHighestTrackableValue(), (e.getValue() - start) / 1000));
        }
      }
      return h;
    }
  }

  /** The one watch: from {@code rv}, re-opened from the last seen resourceVersion if it ends. */
  private static void watchPods(KubeClient k, String startRv, PodTimeline timeline) {
    String rv = startRv;
    try {
      while (!timeline.stopped()) {
        try (Watch w =
            k.watch(
                Resource.PODS,
                NAMESPACE,
                ListOptions.NONE
                    .withResourceVersion(rv)
                    .withTimeoutSeconds(3600)
                    .withBookmarks(true))) {
          WatchEvent e;
          while ((e = w.next()) != null) {
            long now = System.nanoTime();
            if (e.isError()) {
              throw e.error();
            }
            rv = e.object().path("metadata").path("resourceVersion").asText(rv);
            if (!e.isBookmark()) {
              timeline.observe(e.object(), now);
            }
          }
        } catch (IOException e) {
          if (timeline.stopped()) {
            return;
          }
          throw new UncheckedIOException("the benchmark's pod watch broke: " + e.getMessage(), e);
        }
      }
    } catch (ApiException | UncheckedIOException e) {
      if (!timeline.stopped()) {
        timeline.fail(
            new IllegalStateException(
                "the benchmark's pod watch failed, so the figures would be wrong: "
                    + e.getMessage(),
                e));
      }
    }
  }

  private void startScheduler(Path work, String url) throws IOException {
    start(work, "scheduler", SchedulerCommand.class, "--server", url, "--leader-elect=false");
  }

  /** {@code --replicas} bare pods of the Deployment's template, from {@link #CREATORS} threads. */
  private void createPods(KubeClient k) throws InterruptedException {
    ObjectNode template;
    try {
      template = (ObjectNode) deployment(1).at("/spec/template");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    AtomicInteger next = new AtomicInteger();
    ConcurrentLinkedQueue<RuntimeException> failures = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < CREATORS; t++) {
      Thread th =
          new Thread(
              () -> {
                int i;
                while (failures.isEmpty() && (i = next.getAndIncrement()) < replicas) {
                  ObjectNode pod = template.deepCopy();
                  pod.put("apiVersion", "v1").put("kind", "Pod");
                  ((ObjectNode) pod.get("metadata")).put("name", NAME + "-" + i);
                  try {
                    k.create(Resource.PODS, NAMESPACE, pod);
                  } catch (RuntimeException e) {
                    failures.add(e);
                  }
                }
              },
              "cluster-bench-create-" + t);
      th.start();
      threads.add(th);
    }
    for (Thread th : threads) {
      th.join();
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException(
          "creating the bare pods failed: " + failures.peek().getMessage(), failures.peek());
    }
  }

  static ObjectNode deployment(int replicas) throws IOException {
    String json =
        """
        {"apiVersion":"apps/v1","kind":"Deployment",
         "metadata":{"name":"%s"},
         "spec":{"replicas":%d,
           "selector":{"matchLabels":{"app":"%s"}},
           "template":{"metadata":{"labels":{"app":"%s"}},
             "spec":{"containers":[{"name":"c","image":"registry.k8s.io/pause:3.9",
               "resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}}}}
        """
            .formatted(NAME, replicas, NAME, NAME);
    return (ObjectNode) KubeClient.JSON.readTree(json);
  }

  private void awaitReadyNodes(KubeClient k, long deadline) throws InterruptedException {
    int ready = 0;
    while (System.nanoTime() < deadline) {
      checkAlive();
      try {
        ready = 0;
        for (JsonNode n : k.list(Resource.NODES, null, ListOptions.NONE).path("items")) {
          for (JsonNode c : n.path("status").path("conditions")) {
            if (c.path("type").asText().equals("Ready")
                && c.path("status").asText().equals("True")) {
              ready++;
            }
          }
        }
        if (ready >= nodes) {
          return;
        }
      } catch (ApiException | UncheckedIOException e) {
        // The API server answers as soon as it serves; keep polling until the deadline.
      }
      Thread.sleep(500); // polling the cluster coming up, not synchronising a test
    }
    throw new IllegalStateException(
        "only " + ready + " of " + nodes + " nodes became Ready; see the kubelet's log");
  }

  private static long deadline(Duration d) {
    return System.nanoTime() + d.toNanos();
  }

  // ---------------------------------------------------------------------------------- processes

  private int startApiServer(Path work) throws IOException {
    Path log = work.resolve("apiserver.log");
    List<String> cmd = javaCommand(ApiServerUnderTest.class);
    cmd.add("embedded");
    cmd.add(work.resolve("store").toString());
    // The components run without authentication, so the API server sees one client (127.0.0.1)
    // where a real cluster has one user per component, each with its own per-client cap: the
    // global in-flight limits (400, 200 mutating) stay, the per-client cap goes.
    cmd.add("per-client=0");
    if (audit) {
      cmd.add("audit=" + work.resolve("audit.log"));
    }
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    components.add(new Component("apiserver+store", p, log));
    System.out.println("started apiserver+store, pid " + p.pid() + ", log " + log);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("PORT ")) {
        return Integer.parseInt(line.substring(5).trim());
      }
    }
    throw new IllegalStateException(
        "the API server process ended before serving; its log:\n" + Files.readString(log));
  }

  private void start(Path work, String name, Class<?> main, String... args) throws IOException {
    Path log = work.resolve(name + ".log");
    List<String> cmd = javaCommand(main);
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.PIPE)
            .start();
    components.add(new Component(name, p, log));
    System.out.println("started " + name + ", pid " + p.pid() + ", log " + log);
  }

  private List<String> javaCommand(Class<?> main) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOpts);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    return cmd;
  }

  private void checkAlive() {
    for (Component c : components) {
      if (!c.process().isAlive()) {
        String tail;
        try {
          List<String> lines = Files.readAllLines(c.log());
          tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
          tail = "(its log " + c.log() + " cannot be read: " + e.getMessage() + ")";
        }
        throw new IllegalStateException(
            c.name()
                + " exited with "
                + c.process().exitValue()
                + "; the end of its log:\n"
                + tail);
      }
    }
  }

  /** Stops the components in the reverse order of their start: SIGTERM, then SIGKILL after 30 s. */
  private void stopAll() throws InterruptedException {
    for (int i = components.size() - 1; i >= 0; i--) {
      Process p = components.get(i).process();
      try {
        p.getOutputStream().close(); // ApiServerUnderTest stops when its stdin closes
      } catch (IOException e) {
        // Closing a pipe to a process that is gone: the destroy below is enough.
      }
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  // -------------------------------------------------------------------------- memory and CPU

  /** A process's resident memory now and at its peak (KiB), and its CPU time so far. */
  record Usage(long rssKib, long peakKib, double cpuSeconds) {
    static final Usage NONE = new Usage(0, 0, 0);
  }

  private Map<String, Usage> usage() throws IOException {
    Map<String, Usage> m = new HashMap<>();
    for (Component c : components) {
      m.put(c.name(), usage(c.process()));
    }
    return m;
  }

  /** From /proc/PID/status (VmRSS, VmHWM) and the JDK's CPU time of the process. */
  static Usage usage(Process p) throws IOException {
    long rss = 0;
    long peak = 0;
    Path status = Path.of("/proc", Long.toString(p.pid()), "status");
    if (Files.exists(status)) {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmRSS:")) {
          rss = kib(line);
        } else if (line.startsWith("VmHWM:")) {
          peak = kib(line);
        }
      }
    }
    double cpu = p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    return new Usage(rss, peak, cpu);
  }

  private static long kib(String statusLine) {
    String[] parts = statusLine.trim().split("\\s+");
    return Long.parseLong(parts[1]);
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "(unknown: " + e.getMessage() + ")";
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

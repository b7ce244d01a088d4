package dev.kubelite.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.parsetools.RecordParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The API server under load over real HTTP/1.1 keep-alive connections: pod creates, gets, lists of
 * many pods (from the store and from the watch cache) and watch fan-out. The API server runs as a
 * separate process ({@link ApiServerUnderTest}) so that the CPU time per operation counts only the
 * server side: the API server process, which holds the store too in the all-in-one default
 * (KUBELITE: a single-member Kubelite store in process, fsync on), or the API server process plus
 * the etcd process (ETCD: the same API server over a real single-member etcd 3.4 through the remote
 * store client). The load generator's own CPU is not counted.
 */
@Command(
    name = "apiserver-bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmarks the API server on the all-in-one single-member Kubelite store and on a real"
            + " etcd 3.4 single member: pod creates, gets, lists, watch fan-out.")
public final class ApiServerBench implements Callable<Integer> {

  @Option(
      names = "--seconds",
      description = "Measured seconds per scenario (default: ${DEFAULT-VALUE}).")
  int seconds = 10;

  @Option(
      names = "--warmup",
      description =
          "Warm-up seconds per scenario after the first (default: ${DEFAULT-VALUE}); the first"
              + " scenario on each server warms up for --first-warmup.")
  int warmup = 60;

  @Option(
      names = "--first-warmup",
      description =
          "Warm-up seconds of the first scenario on each server (default: ${DEFAULT-VALUE}): a"
              + " fresh server spends its first minutes compiling (its CPU per create falls"
              + " for 1-2 minutes on the 2-core build machine), and a server runs for hours;"
              + " docs/benchmarks.md has the figures.")
  int firstWarmup = 120;

  /** Whether the current server has run a scenario yet (then --warmup, not --first-warmup). */
  private boolean warmedUp;

  @Option(
      names = "--clients",
      description =
          "Concurrent clients (connections) for creates and gets (default: ${DEFAULT-VALUE}).")
  int clients = 64;

  @Option(
      names = "--list-size",
      description = "Pods in the listed namespace (default: ${DEFAULT-VALUE}).")
  int listSize = 10_000;

  @Option(
      names = "--watchers",
      description = "Watches in the fan-out scenario (default: ${DEFAULT-VALUE}).")
  int watchers = 1000;

  @Option(
      names = "--watch-rate",
      description =
          "Pod creates per second during the fan-out scenario (default: ${DEFAULT-VALUE}).")
  int watchRate = 50;

  @Option(names = "--systems", split = ",", description = "Which stores (default: KUBELITE,ETCD).")
  List<StoreCluster.Kind> systems = List.of(StoreCluster.Kind.KUBELITE, StoreCluster.Kind.ETCD);

  /** The scenarios, in the order they run. */
  enum Scenario {
    CREATE,
    GET,
    UPDATE,
    LIST,
    WATCH,
    HEAP
  }

  @Option(
      names = "--scenarios",
      split = ",",
      description =
          "Which scenarios (default: CREATE,GET,UPDATE,LIST,WATCH; GET creates its pods first;"
              + " UPDATE is a PUT of an annotation change and a pods/status strategic merge patch,"
              + " each client on its own pod; HEAP, not in the default, creates --heap-pods pods"
              + " in --heap-steps steps and prints the API server's live heap after a full GC"
              + " after each, and the bytes retained per pod).")
  List<Scenario> scenarios =
      List.of(Scenario.CREATE, Scenario.GET, Scenario.UPDATE, Scenario.LIST, Scenario.WATCH);

  @Option(
      names = "--heap-pods",
      description = "Pods the HEAP scenario creates in all (default: ${DEFAULT-VALUE}).")
  int heapPods = 50_000;

  @Option(
      names = "--heap-steps",
      description =
          "Steps of the HEAP scenario; the live heap is read after each (default:"
              + " ${DEFAULT-VALUE}).")
  int heapSteps = 5;

  @Option(
      names = "--server-jvm-arg",
      description =
          "An extra JVM option for the API server process, e.g."
              + " -XX:StartFlightRecording=filename=/tmp/a.jfr,settings=profile (repeatable).")
  List<String> serverJvmArgs = new ArrayList<>();

  @Option(
      names = "--server-classpath",
      description =
          "The class path of the API server process (default: this benchmark's own), e.g. another"
              + " worktree's bench/target/kubelite-bench-*.jar plus its bench/target/classpath.txt,"
              + " to measure an older build with the same load generator.")
  String serverClasspath;

  @Option(
      names = "--interval",
      description =
          "Print ops/s and server CPU per op every N seconds of the warm-up and the measured"
              + " phase, to see when the server reaches its steady state (default: 0, off).")
  int interval;

  /** One scenario's figures for one system; cpu = server-side CPU microseconds per operation. */
  record Figures(double opsPerSecond, double p50Millis, double p99Millis, double cpuMicros) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private Vertx vertx;
  private HttpClientAgent http;
  private int port;
  private LongSupplier serverCpuNanos;
  private long serverPid;

  @Override
  public Integer call() throws Exception {
    Map<String, Map<StoreCluster.Kind, Figures>> results = new LinkedHashMap<>();
    for (StoreCluster.Kind kind : systems) {
      Path work = Files.createTempDirectory("kubelite-apibench-" + kind);
      vertx = Vertx.vertx();
      StoreCluster etcd = null;
      Process server = null;
      try {
        List<ProcessHandle> measured = new ArrayList<>();
        String backend;
        if (kind == StoreCluster.Kind.ETCD) {
          etcd = StoreCluster.start(kind, work, 1);
          var grpc = io.vertx.grpc.client.GrpcClient.client(vertx);
          try {
            backend = "127.0.0.1:" + etcd.awaitLeader(grpc);
          } finally {
            grpc.close();
          }
          measured.addAll(etcd.handles());
          server = startServer(work, "remote", backend);
        } else {
          server = startServer(work, "embedded", work.resolve("store").toString());
        }
        measured.add(server.toHandle());
        serverPid = server.pid();
        serverCpuNanos =
            () ->
                measured.stream()
                    .mapToLong(h -> h.info().totalCpuDuration().map(Duration::toNanos).orElse(0L))
                    .sum();
        http =
            vertx
                .httpClientBuilder()
                .with(new HttpClientOptions().setKeepAlive(true).setDefaultHost("127.0.0.1"))
                .with(new PoolOptions().setHttp1MaxSize(clients))
                .build();
        System.err.println("== " + kind + ": API server on port " + port);
        warmedUp = false;
        scenarios(kind, results);
      } finally {
        if (http != null) {
          http.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        stopServer(server);
        if (etcd != null) {
          etcd.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        StoreCluster.deleteTree(work);
      }
    }
    print(results);
    return 0;
  }

  private void scenarios(StoreCluster.Kind kind, Map<String, Map<StoreCluster.Kind, Figures>> r)
      throws Exception {
    for (String ns : List.of("bench", "bench-list", "bench-watch")) {
      call(HttpMethod.POST, "/api/v1/namespaces", namespace(ns), 201).await(30, TimeUnit.SECONDS);
    }
    AtomicLong created = new AtomicLong();
    if (scenarios.contains(Scenario.CREATE)) {
      record(
          r,
          "pod create, " + clients + " clients",
          kind,
          run(
              clients,
              () ->
                  call(
                      HttpMethod.POST,
                      "/api/v1/namespaces/bench/pods",
                      pod("bench", "p-" + created.getAndIncrement()),
                      201)));
    }
    if (scenarios.contains(Scenario.GET)) {
      if (created.get() == 0) {
        fill("bench", "p-", 1000);
        created.set(1000);
      }
      long pods = created.get();
      record(
          r,
          "pod get, " + clients + " clients",
          kind,
          run(
              clients,
              () ->
                  call(
                      HttpMethod.GET,
                      "/api/v1/namespaces/bench/pods/p-"
                          + ThreadLocalRandom.current().nextLong(pods),
                      null,
                      200)));
    }
    if (scenarios.contains(Scenario.UPDATE)) {
      updates(kind, r);
    }
    if (scenarios.contains(Scenario.LIST)) {
      fill("bench-list", "q-", listSize);
      String list = "/api/v1/namespaces/bench-list/pods";
      JsonNode first = JSON.readTree(call(HttpMethod.GET, list, null, 200).await().getBytes());
      if (first.path("items").size() != listSize) {
        throw new IllegalStateException(
            "listed " + first.path("items").size() + " pods, expected " + listSize);
      }
      record(
          r,
          "list " + listSize + " pods (consistent, from the store)",
          kind,
          run(1, () -> call(HttpMethod.GET, list, null, 200)));
      record(
          r,
          "list " + listSize + " pods (resourceVersion=0, watch cache)",
          kind,
          run(1, () -> call(HttpMethod.GET, list + "?resourceVersion=0", null, 200)));
    }
    if (scenarios.contains(Scenario.HEAP)) {
      heap();
    }
    if (scenarios.contains(Scenario.WATCH)) {
      record(
          r,
          "watch fan-out to " + watchers + " watchers, " + watchRate + " creates/s (events/s)",
          kind,
          fanOut());
    }
  }

  // ------------------------------------------------------------------------- the server process

  private Process startServer(Path work, String mode, String arg) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(serverJvmArgs);
    cmd.addAll(
        List.of(
            "-cp",
            serverClasspath != null ? serverClasspath : System.getProperty("java.class.path"),
            ApiServerUnderTest.class.getName(),
            mode,
            arg));
    Path log = work.resolve("apiserver.log");
    Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("PORT ")) {
        port = Integer.parseInt(line.substring(5).trim());
        return p;
      }
    }
    p.destroyForcibly();
    throw new IllegalStateException(
        "the API server process ended before serving; its log:\n" + Files.readString(log));
  }

  private static void stopServer(Process p) throws InterruptedException {
    if (p == null) {
      return;
    }
    try {
      p.getOutputStream().close(); // ApiServerUnderTest stops when its stdin closes
    } catch (IOException e) {
      p.destroy();
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  // ----------------------------------------------------------------------------------- requests

  private Future<Buffer> call(HttpMethod method, String uri, Buffer body, int expect) {
    return call(method, uri, body, "application/json", expect);
  }

  private Future<Buffer> call(
      HttpMethod method, String uri, Buffer body, String contentType, int expect) {
    return http.request(method, port, "127.0.0.1", uri)
        .compose(
            req -> {
              if (body == null) {
                return req.send();
              }
              req.putHeader("Content-Type", contentType);
              return req.send(body);
            })
        .compose(
            resp ->
                resp.body()
                    .compose(
                        b ->
                            resp.statusCode() == expect
                                ? Future.succeededFuture(b)
                                : Future.failedFuture(
                                    new IllegalStateException(
                                        method
                                            + " "
                                            + uri
                                            + " answered "
                                            + resp.statusCode()
                                            + ": "
                                            + b))));
  }

  private static Buffer namespace(String name) {
    return Buffer.buffer(
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + name + "\"}}");
  }

  /** A small, realistic pod: labels, one container with a port, resources and an env var. */
  static Buffer pod(String ns, String name) {
    return Buffer.buffer(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\""
            + name
            + "\",\"namespace\":\""
            + ns
            + "\",\"labels\":{\"app\":\"web\",\"tier\":\"frontend\"},"
            + "\"annotations\":{\"bench.kubelite.dev/purpose\":\"load\"}},"
            + "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.27\","
            + "\"ports\":[{\"containerPort\":80,\"name\":\"http\"}],"
            + "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"},"
            + "\"limits\":{\"memory\":\"256Mi\"}},"
            + "\"env\":[{\"name\":\"MODE\",\"value\":\"bench\"}]}],"
            + "\"nodeSelector\":{\"kubernetes.io/os\":\"linux\"}}}");
  }

  /**
   * Updates, each of {@code clients} loops on its own pod ({@code u-<i>}, created first, so that no
   * two loops conflict): a PUT of the pod as last answered with one annotation changed — the body
   * carries its current resourceVersion, status and managedFields, as a controller's update does —
   * then, as a second row, a strategic merge patch of {@code pods/<name>/status} flipping the Ready
   * condition, with the uid precondition and {@code $setElementOrder} a kubelet's status manager
   * sends.
   */
  private void updates(StoreCluster.Kind kind, Map<String, Map<StoreCluster.Kind, Figures>> r)
      throws Exception {
    String base = "/api/v1/namespaces/bench/pods/";
    ObjectNode[] current = new ObjectNode[clients];
    long[] sequence = new long[clients];
    for (int i = 0; i < clients; i++) {
      current[i] =
          (ObjectNode)
              JSON.readTree(
                  call(
                          HttpMethod.POST,
                          "/api/v1/namespaces/bench/pods",
                          pod("bench", "u-" + i),
                          201)
                      .await(30, TimeUnit.SECONDS)
                      .getBytes());
    }
    record(
        r,
        "pod update (PUT, annotation), " + clients + " clients",
        kind,
        run(
            clients,
            i -> {
              ObjectNode pod = current[i];
              ((ObjectNode) pod.get("metadata").get("annotations"))
                  .put("bench.kubelite.dev/update", Long.toString(++sequence[i]));
              Buffer body;
              try {
                body = Buffer.buffer(JSON.writeValueAsBytes(pod));
              } catch (IOException e) {
                return Future.failedFuture(e);
              }
              return call(HttpMethod.PUT, base + "u-" + i, body, 200)
                  .map(
                      b -> {
                        try {
                          current[i] = (ObjectNode) JSON.readTree(b.getBytes());
                        } catch (IOException e) {
                          throw new IllegalStateException("the PUT's answer is not JSON: " + b, e);
                        }
                        return b;
                      });
            }));
    record(
        r,
        "pod status patch (strategic merge), " + clients + " clients",
        kind,
        run(
            clients,
            i -> {
              String uid = current[i].get("metadata").get("uid").asText();
              String ready = ++sequence[i] % 2 == 0 ? "True" : "False";
              Buffer patch =
                  Buffer.buffer(
                      "{\"metadata\":{\"uid\":\""
                          + uid
                          + "\"},\"status\":{\"$setElementOrder/conditions\":[{\"type\":\"Ready\"}],"
                          + "\"conditions\":[{\"lastProbeTime\":null,\"lastTransitionTime\":\""
                          + java.time.Instant.now()
                              .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                          + "\",\"status\":\""
                          + ready
                          + "\",\"type\":\"Ready\"}],\"phase\":\"Running\"}}");
              return call(
                  HttpMethod.PATCH,
                  base + "u-" + i + "/status",
                  patch,
                  "application/strategic-merge-patch+json",
                  200);
            }));
  }

  /** Creates pods {@code prefix}0 … in {@code ns}, {@code clients} at a time. */
  private void fill(String ns, String prefix, int count) throws Exception {
    fill(ns, prefix, 0, count);
  }

  /** Creates pods {@code prefix + from} to {@code prefix + (count - 1)} in {@code ns}. */
  private void fill(String ns, String prefix, int from, int count) throws Exception {
    AtomicInteger next = new AtomicInteger(from);
    List<CompletableFuture<Void>> loops = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      loops.add(done);
      fillLoop(ns, prefix, count, next, done);
    }
    CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
  }

  private void fillLoop(
      String ns, String prefix, int count, AtomicInteger next, CompletableFuture<Void> done) {
    int i = next.getAndIncrement();
    if (i >= count) {
      done.complete(null);
      return;
    }
    call(HttpMethod.POST, "/api/v1/namespaces/" + ns + "/pods", pod(ns, prefix + i), 201)
        .onSuccess(b -> fillLoop(ns, prefix, count, next, done))
        .onFailure(done::completeExceptionally);
  }

  // ------------------------------------------------------------------------------------ heap

  /**
   * Creates {@code --heap-pods} pods in {@code --heap-steps} steps; after each, the API server's
   * live heap after a full GC ({@code jcmd <pid> GC.class_histogram}, which collects first) and the
   * bytes it retained per pod created in that step. The last histogram's largest classes show what
   * holds the memory.
   */
  private void heap() throws Exception {
    call(HttpMethod.POST, "/api/v1/namespaces", namespace("bench-heap"), 201)
        .await(30, TimeUnit.SECONDS);
    List<String> before = histogram();
    long live0 = liveBytes(before);
    System.err.printf("   heap: 0 pods, live %.1f MB%n", live0 / 1e6);
    int created = 0;
    long lastLive = live0;
    List<String> last = before;
    for (int step = 1; step <= heapSteps; step++) {
      int target = (int) ((long) heapPods * step / heapSteps);
      fill("bench-heap", "h-", created, target);
      int added = target - created;
      created = target;
      last = histogram();
      long live = liveBytes(last);
      String line =
          String.format(
              "heap: %,d pods, live %.1f MB, %,.0f bytes per pod in this step, %,.0f per pod"
                  + " overall",
              created,
              live / 1e6,
              added == 0 ? 0.0 : (live - lastLive) / (double) added,
              (live - live0) / (double) created);
      System.err.println("   " + line);
      System.out.println(line);
      lastLive = live;
    }
    System.out.println("largest classes after the last step (instances, bytes, class):");
    last.stream().filter(l -> l.matches("\\s*\\d+:.*")).limit(15).forEach(System.out::println);
  }

  /** The server's class histogram (a full GC first), as jcmd prints it. */
  private List<String> histogram() throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p =
        new ProcessBuilder(jcmd.toString(), Long.toString(serverPid), "GC.class_histogram")
            .redirectErrorStream(true)
            .start();
    List<String> lines;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      lines = r.lines().toList();
    }
    if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("jcmd GC.class_histogram failed: " + lines);
    }
    return lines;
  }

  /** The bytes on a histogram's Total line. */
  private static long liveBytes(List<String> histogram) {
    for (String l : histogram) {
      String[] f = l.trim().split("\\s+");
      if (f.length == 3 && f[0].equals("Total")) {
        return Long.parseLong(f[2]);
      }
    }
    throw new IllegalStateException("no Total line in the class histogram: " + histogram);
  }

  // ---------------------------------------------------------------------------- closed loops

  /**
   * Closed loop: {@code concurrency} requests always in flight, first for the warm-up, then for the
   * measured seconds, in which completions, latencies and the server's CPU time are counted.
   */
  private Figures run(int concurrency, java.util.function.Supplier<Future<?>> op) throws Exception {
    return run(concurrency, i -> op.get());
  }

  /** As {@link #run(int, java.util.function.Supplier)}, the operation given its loop's index. */
  private Figures run(int concurrency, IntFunction<Future<?>> op) throws Exception {
    phase(concurrency, warmupSeconds(), op, null);
    Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
    long cpu0 = serverCpuNanos.getAsLong();
    long done = phase(concurrency, seconds, op, latency);
    long cpu = serverCpuNanos.getAsLong() - cpu0;
    return new Figures(
        done / (double) seconds,
        latency.getValueAtPercentile(50) / 1000.0,
        latency.getValueAtPercentile(99) / 1000.0,
        done == 0 ? 0 : cpu / 1000.0 / done);
  }

  private long phase(
      int concurrency, int phaseSeconds, IntFunction<Future<?>> op, Histogram latency)
      throws Exception {
    if (phaseSeconds <= 0) {
      return 0;
    }
    AtomicLong done = new AtomicLong();
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(phaseSeconds);
    long timer = interval > 0 ? intervals(latency == null ? "warm-up" : "measured", done) : -1;
    List<CompletableFuture<Void>> loops = new ArrayList<>();
    try {
      for (int i = 0; i < concurrency; i++) {
        CompletableFuture<Void> finished = new CompletableFuture<>();
        loops.add(finished);
        loop(i, op, latency, done, end, finished);
      }
      CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new))
          .get(phaseSeconds + 120, TimeUnit.SECONDS);
    } finally {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }
    return done.get();
  }

  /** This scenario's warm-up: --first-warmup for a server's first scenario, else --warmup. */
  private int warmupSeconds() {
    int w = warmedUp ? warmup : Math.max(warmup, firstWarmup);
    warmedUp = true;
    return w;
  }

  /**
   * Every {@code --interval} seconds of a phase, the operations completed and the server's CPU per
   * operation in that interval (on standard error): how long the server takes to reach its steady
   * state (JIT compilation, heap sizing, caches).
   */
  private long intervals(String phase, AtomicLong done) {
    long t0 = System.nanoTime();
    long[] last = {t0, 0, serverCpuNanos.getAsLong()};
    return vertx.setPeriodic(
        TimeUnit.SECONDS.toMillis(interval),
        id -> {
          long now = System.nanoTime();
          long ops = done.get();
          long cpu = serverCpuNanos.getAsLong();
          long dOps = ops - last[1];
          System.err.printf(
              "     %-8s %5.0f s  %9.0f ops/s  cpu %8.1f us/op  (load %s)%n",
              phase,
              (now - t0) / 1e9,
              dOps / ((now - last[0]) / 1e9),
              dOps == 0 ? 0.0 : (cpu - last[2]) / 1000.0 / dOps,
              loadAverage());
          last[0] = now;
          last[1] = ops;
          last[2] = cpu;
        });
  }

  /** The 1-minute load average, or "?" where /proc is not there. */
  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static void loop(
      int index,
      IntFunction<Future<?>> op,
      Histogram latency,
      AtomicLong done,
      long end,
      CompletableFuture<Void> finished) {
    long sent = System.nanoTime();
    if (sent >= end) {
      finished.complete(null);
      return;
    }
    op.apply(index)
        .onComplete(
            ar -> {
              long now = System.nanoTime();
              if (ar.failed()) {
                finished.completeExceptionally(ar.cause());
                return;
              }
              if (latency != null) {
                latency.recordValue(TimeUnit.NANOSECONDS.toMicros(now - sent));
              }
              done.incrementAndGet();
              loop(index, op, latency, done, end, finished);
            });
  }

  // -------------------------------------------------------------------------------- fan-out

  /**
   * {@code watchers} watches (one HTTP connection each) on a namespace's pods, from its current
   * resourceVersion, while pods are created there at {@code watchRate} per second: events delivered
   * per second summed over watchers, the delay from sending a create to each watcher receiving its
   * ADDED event, and server CPU per delivered event.
   */
  private Figures fanOut() throws Exception {
    String base = "/api/v1/namespaces/bench-watch/pods";
    String rv =
        JSON.readTree(call(HttpMethod.GET, base, null, 200).await().getBytes())
            .path("metadata")
            .path("resourceVersion")
            .asText();
    int warmup = warmupSeconds();
    int capacity = watchRate * (warmup + seconds + 5) + 16;
    AtomicLongArray sentAt = new AtomicLongArray(capacity);
    Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
    AtomicLong delivered = new AtomicLong();
    AtomicInteger ended = new AtomicInteger();
    long[] window = {Long.MAX_VALUE, Long.MAX_VALUE};
    HttpClientAgent watchClient =
        vertx
            .httpClientBuilder()
            .with(new HttpClientOptions().setKeepAlive(true))
            .with(new PoolOptions().setHttp1MaxSize(watchers))
            .build();
    try {
      List<CompletableFuture<Void>> established = new ArrayList<>();
      for (int i = 0; i < watchers; i++) {
        CompletableFuture<Void> ok = new CompletableFuture<>();
        established.add(ok);
        watchClient
            .request(
                HttpMethod.GET,
                port,
                "127.0.0.1",
                base + "?watch=true&timeoutSeconds=3600&resourceVersion=" + rv)
            .compose(req -> req.send())
            .onSuccess(
                resp -> {
                  if (resp.statusCode() != 200) {
                    ok.completeExceptionally(
                        new IllegalStateException("watch answered " + resp.statusCode()));
                    return;
                  }
                  resp.endHandler(v -> ended.incrementAndGet());
                  resp.exceptionHandler(e -> ended.incrementAndGet());
                  resp.handler(
                      RecordParser.newDelimited(
                          "\n",
                          line -> {
                            long now = System.nanoTime();
                            int seq = sequence(line);
                            if (seq < 0 || seq >= capacity) {
                              return;
                            }
                            long sent = sentAt.get(seq);
                            if (sent >= window[0] && sent < window[1]) {
                              latency.recordValue(TimeUnit.NANOSECONDS.toMicros(now - sent));
                              delivered.incrementAndGet();
                            }
                          }));
                  ok.complete(null);
                })
            .onFailure(ok::completeExceptionally);
      }
      CompletableFuture.allOf(established.toArray(CompletableFuture[]::new))
          .get(120, TimeUnit.SECONDS);
      // Paced writer: a tick every 10 ms sends the creates due by then.
      AtomicInteger next = new AtomicInteger();
      AtomicLong failures = new AtomicLong();
      long start = System.nanoTime();
      long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
      long measureTo = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
      window[0] = measureFrom;
      window[1] = measureTo;
      Promise<Void> writerDone = Promise.promise();
      long cpu0[] = {0};
      AtomicInteger inWindow = new AtomicInteger();
      vertx.setPeriodic(
          10,
          id -> {
            long now = System.nanoTime();
            if (cpu0[0] == 0 && now >= measureFrom) {
              cpu0[0] = serverCpuNanos.getAsLong();
            }
            if (now >= measureTo) {
              vertx.cancelTimer(id);
              writerDone.tryComplete();
              return;
            }
            long due = (now - start) * watchRate / 1_000_000_000L;
            while (next.get() < due && next.get() < capacity) {
              int seq = next.getAndIncrement();
              long sent = System.nanoTime();
              sentAt.set(seq, sent);
              if (sent >= measureFrom) {
                inWindow.incrementAndGet();
              }
              call(HttpMethod.POST, base, pod("bench-watch", "fan-" + seq + "-x"), 201)
                  .onFailure(e -> failures.incrementAndGet());
            }
          });
      writerDone.future().await(seconds + warmup + 60, TimeUnit.SECONDS);
      long expected = (long) inWindow.get() * watchers;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (delivered.get() < expected && System.nanoTime() < deadline) {
        Thread.sleep(50); // letting the last events arrive, bounded
      }
      long cpu = serverCpuNanos.getAsLong() - cpu0[0];
      if (failures.get() > 0 || delivered.get() < expected || ended.get() > 0) {
        System.err.printf(
            "   fan-out: %d creates failed, %d of %d events delivered, %d of %d watches ended"
                + " early (the server drops watchers that do not read fast enough)%n",
            failures.get(), delivered.get(), expected, ended.get(), watchers);
      }
      return new Figures(
          delivered.get() / (double) seconds,
          latency.getValueAtPercentile(50) / 1000.0,
          latency.getValueAtPercentile(99) / 1000.0,
          delivered.get() == 0 ? 0 : cpu / 1000.0 / delivered.get());
    } finally {
      watchClient.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** The sequence number in a watch event line: the name {@code fan-<seq>-x}; -1 if none. */
  private static int sequence(Buffer line) {
    String s = line.toString(StandardCharsets.UTF_8);
    int i = s.indexOf("\"fan-");
    if (i < 0 || !s.startsWith("{\"type\":\"ADDED\"")) {
      return -1;
    }
    int end = s.indexOf('-', i + 5);
    return end < 0 ? -1 : Integer.parseInt(s, i + 5, end, 10);
  }

  // --------------------------------------------------------------------------------- output

  private static void record(
      Map<String, Map<StoreCluster.Kind, Figures>> results,
      String scenario,
      StoreCluster.Kind kind,
      Figures f) {
    results.computeIfAbsent(scenario, k -> new LinkedHashMap<>()).put(kind, f);
    System.err.printf(
        "   %-66s %9.0f ops/s  p50 %8.2f ms  p99 %8.2f ms  cpu %8.1f us/op%n",
        scenario, f.opsPerSecond(), f.p50Millis(), f.p99Millis(), f.cpuMicros());
  }

  private static void print(Map<String, Map<StoreCluster.Kind, Figures>> results) {
    IntFunction<String> dash = n -> "-".repeat(n);
    System.out.printf(
        "%-66s | %9s %8s %8s %9s | %9s %8s %8s %9s | %s%n",
        "scenario (server CPU: API server process, + etcd's for etcd)",
        "ours/s",
        "p50 ms",
        "p99 ms",
        "cpu us/op",
        "etcd/s",
        "p50 ms",
        "p99 ms",
        "cpu us/op",
        "ours/etcd");
    System.out.println(dash.apply(66 + 3 + 38 + 3 + 38 + 3 + 9));
    for (var e : results.entrySet()) {
      Figures ours = e.getValue().get(StoreCluster.Kind.KUBELITE);
      Figures etcd = e.getValue().get(StoreCluster.Kind.ETCD);
      System.out.printf(
          "%-66s | %s | %s | %s%n",
          e.getKey(),
          cells(ours),
          cells(etcd),
          etcd != null && ours != null && etcd.opsPerSecond() > 0
              ? String.format("%.2fx", ours.opsPerSecond() / etcd.opsPerSecond())
              : "-");
    }
  }

  private static String cells(Figures f) {
    return f == null
        ? String.format("%9s %8s %8s %9s", "-", "-", "-", "-")
        : String.format(
            "%9.0f %8.2f %8.2f %9.1f",
            f.opsPerSecond(), f.p50Millis(), f.p99Millis(), f.cpuMicros());
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ApiServerBench()).execute(args));
  }
}

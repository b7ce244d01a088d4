package dev.kubelite.bench;

import com.google.protobuf.ByteString;
import dev.kubelite.store.api.etcdserverpb.Compare;
import dev.kubelite.store.api.etcdserverpb.KVGrpcClient;
import dev.kubelite.store.api.etcdserverpb.PutRequest;
import dev.kubelite.store.api.etcdserverpb.RangeRequest;
import dev.kubelite.store.api.etcdserverpb.RequestOp;
import dev.kubelite.store.api.etcdserverpb.TxnRequest;
import dev.kubelite.store.api.etcdserverpb.WatchCreateRequest;
import dev.kubelite.store.api.etcdserverpb.WatchGrpcClient;
import dev.kubelite.store.api.etcdserverpb.WatchRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Kubelite's store against etcd 3.4, side by side in one run: each system as a 3-member cluster of
 * real processes on loopback with fsync on, driven by the same gRPC client with the same workload.
 * Prints ops/s and p50/p99 per system and the ratio ours/etcd.
 */
@Command(
    name = "store-bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmarks Kubelite's store against etcd 3.4 (3 members each, loopback, fsync on).")
public final class StoreBench implements Callable<Integer> {

  @Option(
      names = "--seconds",
      description = "Measured seconds per scenario (default: ${DEFAULT-VALUE}).")
  int seconds = 10;

  @Option(
      names = "--warmup",
      description = "Warm-up seconds per scenario (default: ${DEFAULT-VALUE}).")
  int warmup = 2;

  @Option(
      names = "--clients",
      split = ",",
      description = "Concurrent clients for the put scenarios (default: 1,16,64,256).")
  List<Integer> clients = List.of(1, 16, 64, 256);

  @Option(
      names = "--watchers",
      description = "Watchers in the fan-out scenario (default: ${DEFAULT-VALUE}).")
  int watchers = 100;

  @Option(
      names = "--jit-warmup",
      description =
          "Seconds of mixed load (puts, gets, txns) before the first scenario, not recorded, so the"
              + " JVM's JIT compilation is not charged to whichever scenario runs first (default: 60;"
              + " on a loaded 2-core machine the CPU per put still fell after 80 s).")
  int jitWarmup = 60;

  @Option(names = "--systems", split = ",", description = "Which systems (default: ETCD,KUBELITE).")
  List<StoreCluster.Kind> systems = List.of(StoreCluster.Kind.ETCD, StoreCluster.Kind.KUBELITE);

  @Option(
      names = "--puts-only",
      description = "Run only the put scenarios (one per --clients value).")
  boolean putsOnly;

  @Option(
      names = "--member-classpath",
      description =
          "Class path the Kubelite members run from (default: this build's), e.g. another build's"
              + " to compare two builds in one run.")
  String memberClasspath = System.getProperty("java.class.path");

  @Option(
      names = "--member-jvm-arg",
      description =
          "A JVM argument for each Kubelite member (repeatable); {member} becomes the member's"
              + " name, e.g. -XX:StartFlightRecording=filename=/tmp/{member}.jfr")
  List<String> memberJvmArgs = new ArrayList<>();

  /** One scenario's figures for one system. */
  record Figures(double opsPerSecond, double p50Millis, double p99Millis, double cpuMicrosPerOp) {}

  /** The cluster being measured: its processes' CPU time is charged to the scenario running. */
  private StoreCluster cluster;

  /** Which of {@link #cluster}'s members leads (for the per-member CPU line). */
  private int leaderIndex;

  private static final byte[] VALUE = new byte[256];

  @Override
  public Integer call() throws Exception {
    Map<String, Map<StoreCluster.Kind, Figures>> results = new LinkedHashMap<>();
    for (StoreCluster.Kind kind : systems) {
      Path work = Files.createTempDirectory("kubelite-bench-" + kind);
      Vertx vertx = Vertx.vertx();
      GrpcClient grpc = GrpcClient.client(vertx);
      try (StoreCluster cluster =
          StoreCluster.start(kind, work, 3, memberClasspath, memberJvmArgs)) {
        this.cluster = cluster;
        int leader = cluster.awaitLeader(grpc);
        this.leaderIndex = cluster.clientPorts.indexOf(leader);
        KVGrpcClient kv =
            KVGrpcClient.create(grpc, SocketAddress.inetSocketAddress(leader, "127.0.0.1"));
        System.err.println("== " + kind + ": leader on port " + leader);
        if (jitWarmup > 0) {
          System.err.println("   warming up for " + jitWarmup + " s (not recorded)");
          int perOp = Math.max(1, jitWarmup / 3);
          runFor(perOp, 64, () -> kv.put(randomPut()));
          runFor(perOp, 64, () -> kv.range(get(false)));
          runFor(perOp, 64, () -> kv.txn(casPut()));
        }
        for (int c : clients) {
          record(results, "put, " + c + " clients", kind, run(c, () -> kv.put(randomPut())));
        }
        if (putsOnly) {
          continue;
        }
        record(results, "linearizable get, 64 clients", kind, run(64, () -> kv.range(get(false))));
        record(results, "serializable get, 64 clients", kind, run(64, () -> kv.range(get(true))));
        record(results, "txn compare-and-put, 64 clients", kind, run(64, () -> kv.txn(casPut())));
        record(
            results,
            "watch fan-out to " + watchers + " watchers (events/s, delivery latency)",
            kind,
            fanOut(vertx, grpc, leader, kv));
      } finally {
        grpc.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        StoreCluster.deleteTree(work);
      }
    }
    print(results);
    return 0;
  }

  private static void record(
      Map<String, Map<StoreCluster.Kind, Figures>> results,
      String scenario,
      StoreCluster.Kind kind,
      Figures f) {
    results.computeIfAbsent(scenario, k -> new LinkedHashMap<>()).put(kind, f);
    System.err.printf(
        "   %-62s %10.0f ops/s  p50 %7.2f ms  p99 %7.2f ms  cpu %6.0f us/op  load %s%n",
        scenario,
        f.opsPerSecond(),
        f.p50Millis(),
        f.p99Millis(),
        f.cpuMicrosPerOp(),
        loadAverage());
  }

  /** The 1-minute load average, to judge how much other work shared the machine. */
  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0];
    } catch (java.io.IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private static PutRequest randomPut() {
    return PutRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("/bench/k" + ThreadLocalRandom.current().nextInt(10_000)))
        .setValue(ByteString.copyFrom(VALUE))
        .build();
  }

  private static RangeRequest get(boolean serializable) {
    return RangeRequest.newBuilder()
        .setKey(ByteString.copyFromUtf8("/bench/k" + ThreadLocalRandom.current().nextInt(10_000)))
        .setSerializable(serializable)
        .build();
  }

  /**
   * A Kubernetes-style update: put only if the key is unchanged since we read it (mod revision).
   */
  private static TxnRequest casPut() {
    ByteString key =
        ByteString.copyFromUtf8("/bench/k" + ThreadLocalRandom.current().nextInt(10_000));
    return TxnRequest.newBuilder()
        .addCompare(
            Compare.newBuilder()
                .setKey(key)
                .setTarget(Compare.CompareTarget.MOD)
                .setResult(Compare.CompareResult.GREATER)
                .setModRevision(0))
        .addSuccess(
            RequestOp.newBuilder()
                .setRequestPut(
                    PutRequest.newBuilder().setKey(key).setValue(ByteString.copyFrom(VALUE))))
        .addFailure(RequestOp.newBuilder().setRequestRange(RangeRequest.newBuilder().setKey(key)))
        .build();
  }

  /**
   * Closed loop: {@code concurrency} requests always in flight; after warm-up, counts completions
   * and records each latency for {@code seconds}.
   */
  /** Runs {@code op} closed-loop for {@code secs} seconds and discards the figures. */
  private void runFor(int secs, int concurrency, Supplier<Future<?>> op) throws Exception {
    run(concurrency, op, 0, secs);
  }

  private Figures run(int concurrency, Supplier<Future<?>> op) throws Exception {
    return run(concurrency, op, warmup, seconds);
  }

  private Figures run(int concurrency, Supplier<Future<?>> op, int warmup, int seconds)
      throws Exception {
    Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
    AtomicLong done = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
    long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
    List<CompletableFuture<Void>> loops = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      CompletableFuture<Void> finished = new CompletableFuture<>();
      loops.add(finished);
      loop(op, latency, done, measureFrom, end, finished);
    }
    long cpu = cpuDuringWindow(measureFrom, end);
    CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new))
        .get(seconds + warmup + 60, TimeUnit.SECONDS);
    StringBuilder each = new StringBuilder();
    for (int i = 0; i < lastPerMember.length; i++) {
      each.append(
          String.format(
              " %s %.0f",
              i == leaderIndex ? "leader" : "follower", perOp(lastPerMember[i], done.get())));
    }
    System.err.println("   cpu us/op by member:" + each);
    return new Figures(
        done.get() / (double) seconds,
        latency.getValueAtPercentile(50) / 1000.0,
        latency.getValueAtPercentile(99) / 1000.0,
        perOp(cpu, done.get()));
  }

  /**
   * The CPU time (µs, all members' processes together) spent between the two {@link
   * System#nanoTime()} instants; blocks this (the main) thread until {@code to}.
   */
  private long cpuDuringWindow(long from, long to) throws InterruptedException {
    TimeUnit.NANOSECONDS.sleep(Math.max(0, from - System.nanoTime()));
    long[] before = cluster.cpuMicrosPerMember();
    TimeUnit.NANOSECONDS.sleep(Math.max(0, to - System.nanoTime()));
    long[] after = cluster.cpuMicrosPerMember();
    long total = 0;
    lastPerMember = new long[after.length];
    for (int i = 0; i < after.length; i++) {
      lastPerMember[i] = after[i] - before[i];
      total += lastPerMember[i];
    }
    return total;
  }

  /** Each member's CPU time (µs) in the last measured window. */
  private long[] lastPerMember = new long[0];

  private static double perOp(long cpuMicros, long ops) {
    return ops == 0 ? Double.NaN : cpuMicros / (double) ops;
  }

  private static void loop(
      Supplier<Future<?>> op,
      Histogram latency,
      AtomicLong done,
      long measureFrom,
      long end,
      CompletableFuture<Void> finished) {
    long sent = System.nanoTime();
    if (sent >= end) {
      finished.complete(null);
      return;
    }
    op.get()
        .onComplete(
            ar -> {
              long now = System.nanoTime();
              if (ar.failed()) {
                finished.completeExceptionally(ar.cause());
                return;
              }
              if (sent >= measureFrom && now <= end) {
                latency.recordValue(TimeUnit.NANOSECONDS.toMicros(now - sent));
                done.incrementAndGet();
              }
              loop(op, latency, done, measureFrom, end, finished);
            });
  }

  /**
   * {@code watchers} watches on one prefix, one writer putting as fast as it can: events delivered
   * per second (summed over watchers) and the delay from sending a put to a watcher receiving it.
   */
  private Figures fanOut(Vertx vertx, GrpcClient grpc, int port, KVGrpcClient kv) throws Exception {
    Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
    AtomicLong delivered = new AtomicLong();
    long[] window = new long[2];
    WatchGrpcClient watch =
        WatchGrpcClient.create(grpc, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
    List<CompletableFuture<Void>> created = new ArrayList<>();
    for (int i = 0; i < watchers; i++) {
      CompletableFuture<Void> ready = new CompletableFuture<>();
      created.add(ready);
      vertx.runOnContext(
          v ->
              watch
                  .watch(
                      (requests, failure) -> {
                        if (failure == null) {
                          requests.write(
                              WatchRequest.newBuilder()
                                  .setCreateRequest(
                                      WatchCreateRequest.newBuilder()
                                          .setKey(ByteString.copyFromUtf8("/fan/"))
                                          .setRangeEnd(ByteString.copyFromUtf8("/fan0")))
                                  .build());
                        } else {
                          ready.completeExceptionally(failure);
                        }
                      })
                  .onSuccess(
                      responses ->
                          responses.handler(
                              r -> {
                                if (r.getCreated()) {
                                  ready.complete(null);
                                }
                                long now = System.nanoTime();
                                for (var e : r.getEventsList()) {
                                  long sent = Long.parseLong(e.getKv().getValue().toStringUtf8());
                                  if (sent >= window[0] && now <= window[1]) {
                                    latency.recordValue(TimeUnit.NANOSECONDS.toMicros(now - sent));
                                    delivered.incrementAndGet();
                                  }
                                }
                              }))
                  .onFailure(ready::completeExceptionally));
    }
    CompletableFuture.allOf(created.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    window[0] = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
    window[1] = window[0] + TimeUnit.SECONDS.toNanos(seconds);
    Figures writer =
        run(
            1,
            () ->
                kv.put(
                    PutRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("/fan/k"))
                        .setValue(ByteString.copyFromUtf8(Long.toString(System.nanoTime())))
                        .build()));
    double writes = writer.opsPerSecond() * seconds;
    return new Figures(
        delivered.get() / (double) seconds,
        latency.getValueAtPercentile(50) / 1000.0,
        latency.getValueAtPercentile(99) / 1000.0,
        writer.cpuMicrosPerOp() * writes / Math.max(1, delivered.get()));
  }

  private static void print(Map<String, Map<StoreCluster.Kind, Figures>> results) {
    System.out.printf(
        "%-62s | %12s %8s %8s %8s | %12s %8s %8s %8s | %s%n",
        "scenario",
        "etcd ops/s",
        "p50 ms",
        "p99 ms",
        "cpu us",
        "ours ops/s",
        "p50 ms",
        "p99 ms",
        "cpu us",
        "ours/etcd");
    for (var e : results.entrySet()) {
      Figures etcd = e.getValue().get(StoreCluster.Kind.ETCD);
      Figures ours = e.getValue().get(StoreCluster.Kind.KUBELITE);
      System.out.printf(
          "%-62s | %s | %s | %s%n",
          e.getKey(),
          cells(etcd),
          cells(ours),
          etcd != null && ours != null && etcd.opsPerSecond() > 0
              ? String.format("%.2fx", ours.opsPerSecond() / etcd.opsPerSecond())
              : "-");
    }
  }

  private static String cells(Figures f) {
    return f == null
        ? String.format("%12s %8s %8s %8s", "-", "-", "-", "-")
        : String.format(
            "%12.0f %8.2f %8.2f %8.0f",
            f.opsPerSecond(), f.p50Millis(), f.p99Millis(), f.cpuMicrosPerOp());
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new StoreBench()).execute(args));
  }
}

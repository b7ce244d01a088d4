package dev.kubelite.bench;

import dev.kubelite.store.api.etcdserverpb.MaintenanceGrpcClient;
import dev.kubelite.store.api.etcdserverpb.StatusRequest;
import dev.kubelite.store.api.etcdserverpb.StatusResponse;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A 3-member cluster of real processes on 127.0.0.1 — etcd 3.4 or Kubelite's store — with fsync on
 * (both sync their logs on every batch by default), for side-by-side measurements.
 */
final class StoreCluster implements AutoCloseable {
  enum Kind {
    ETCD,
    KUBELITE
  }

  final Kind kind;
  final List<Integer> clientPorts = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final Path workDir;

  private StoreCluster(Kind kind, Path workDir) {
    this.kind = kind;
    this.workDir = workDir;
  }

  static StoreCluster start(Kind kind, Path workDir, int members) throws IOException {
    return start(kind, workDir, members, System.getProperty("java.class.path"), List.of());
  }

  /**
   * As {@link #start(Kind, Path, int)}; Kubelite members run from {@code classpath} (another build,
   * to compare two builds in one run) with {@code jvmArgs} before the main class, where {@code
   * {member}} stands for the member's name (e.g. a JFR recording file per member).
   */
  static StoreCluster start(
      Kind kind, Path workDir, int members, String classpath, List<String> jvmArgs)
      throws IOException {
    StoreCluster c = new StoreCluster(kind, workDir);
    List<int[]> ports = new ArrayList<>();
    StringBuilder initial = new StringBuilder();
    for (int i = 0; i < members; i++) {
      int[] p = {freePort(), freePort()};
      ports.add(p);
      initial
          .append(i == 0 ? "" : ",")
          .append("m")
          .append(i)
          .append("=http://127.0.0.1:")
          .append(p[1]);
    }
    for (int i = 0; i < members; i++) {
      String client = "http://127.0.0.1:" + ports.get(i)[0];
      String peer = "http://127.0.0.1:" + ports.get(i)[1];
      List<String> cmd = new ArrayList<>();
      if (kind == Kind.ETCD) {
        cmd.add("etcd");
      } else {
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : jvmArgs) {
          cmd.add(a.replace("{member}", "m" + i));
        }
        cmd.addAll(List.of("-cp", classpath, "dev.kubelite.store.server.StoreCommand"));
      }
      cmd.addAll(
          List.of(
              "--name",
              "m" + i,
              "--data-dir",
              workDir.resolve(kind + "-m" + i).toString(),
              "--listen-client-urls",
              client,
              "--advertise-client-urls",
              client,
              "--listen-peer-urls",
              peer,
              "--initial-advertise-peer-urls",
              peer,
              "--initial-cluster",
              initial.toString(),
              "--initial-cluster-token",
              "bench-" + kind,
              "--initial-cluster-state",
              "new"));
      Process proc =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(workDir.resolve(kind + "-m" + i + ".log").toFile())
              .start();
      c.processes.add(proc);
      c.clientPorts.add(ports.get(i)[0]);
    }
    return c;
  }

  /** The members' processes (to read their CPU time). */
  List<ProcessHandle> handles() {
    return processes.stream().map(Process::toHandle).toList();
  }

  /** Waits until every member reports the same leader; returns the leader's client port. */
  int awaitLeader(GrpcClient grpc) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      long leader = -1;
      int leaderPort = -1;
      boolean agreed = true;
      for (int port : clientPorts) {
        try {
          StatusResponse s =
              MaintenanceGrpcClient.create(grpc, SocketAddress.inetSocketAddress(port, "127.0.0.1"))
                  .status(StatusRequest.getDefaultInstance())
                  .toCompletionStage()
                  .toCompletableFuture()
                  .get(2, TimeUnit.SECONDS);
          if (s.getLeader() == 0 || (leader != -1 && s.getLeader() != leader)) {
            agreed = false;
          }
          leader = s.getLeader();
          if (s.getLeader() == s.getHeader().getMemberId()) {
            leaderPort = port;
          }
        } catch (Exception e) {
          agreed = false;
        }
      }
      if (agreed && leaderPort > 0) {
        return leaderPort;
      }
      Thread.sleep(200); // polling a starting process, not synchronising a test
    }
    throw new IllegalStateException(kind + " cluster did not elect a leader; logs in " + workDir);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** CPU time (user + system) the member processes have used so far, in microseconds. */
  public long cpuMicros() {
    long total = 0;
    for (long m : cpuMicrosPerMember()) {
      total += m;
    }
    return total;
  }

  /** CPU time (user + system) of each member process so far, in microseconds, in member order. */
  long[] cpuMicrosPerMember() {
    long[] each = new long[processes.size()];
    for (int i = 0; i < each.length; i++) {
      Process p = processes.get(i);
      each[i] =
          p.info()
                  .totalCpuDuration()
                  .orElseThrow(
                      () ->
                          new IllegalStateException(
                              "this OS does not report CPU time of process " + p.pid()))
                  .toNanos()
              / 1000;
    }
    return each;
  }

  @Override
  public void close() throws IOException {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

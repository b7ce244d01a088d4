package dev.kubelite.store.testing;

import static org.awaitility.Awaitility.await;

import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.StoreServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A single-member Kubelite store in this JVM on free loopback ports, for tests: started and waited
 * for until it serves linearizable reads; stopped and restarted on the same ports and data dir;
 * with its endpoint and an etcdctl bound to it.
 *
 * <p>Either started by the test ({@link #start}, closed by it), or, as a JUnit extension, one per
 * test: {@code @RegisterExtension final LocalMember member = LocalMember.perTest();} starts member
 * "m1" in a temporary directory of its own before each test, and closes and removes it after.
 */
public final class LocalMember implements AutoCloseable, BeforeEachCallback, AfterEachCallback {
  private static final Duration READY_WITHIN = Duration.ofSeconds(20);

  private final UnaryOperator<MemberConfig> tune; // per-test members only
  private MemberConfig config;
  private StoreServer server;
  private Path ownDir; // per-test members only

  private LocalMember(MemberConfig config, UnaryOperator<MemberConfig> tune) {
    this.config = config;
    this.tune = tune;
  }

  /** For {@code @RegisterExtension}: member "m1", started before each test, closed after it. */
  public static LocalMember perTest() {
    return perTest(c -> c);
  }

  /** Like {@link #perTest()}, its config first passed through {@code tune} (flags). */
  public static LocalMember perTest(UnaryOperator<MemberConfig> tune) {
    return new LocalMember(null, tune);
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    ownDir = Files.createTempDirectory("kubelite-member");
    config =
        tune.apply(config("m1", ownDir.resolve("m1"), FreePorts.next(), FreePorts.next(), "t1"));
    startServer();
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    close();
    try (Stream<Path> files = Files.walk(ownDir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Member "m1" of cluster token "t1" with its data under {@code dataDir}. */
  public static LocalMember start(Path dataDir) throws Exception {
    return start(dataDir, c -> c);
  }

  /** Member "m1" of token "t1", its config first passed through {@code tune} (flags). */
  public static LocalMember start(Path dataDir, UnaryOperator<MemberConfig> tune) throws Exception {
    return start(tune.apply(config("m1", dataDir, FreePorts.next(), FreePorts.next(), "t1")));
  }

  /** A member with exactly this config. */
  public static LocalMember start(MemberConfig config) throws Exception {
    LocalMember m = new LocalMember(config, null);
    m.startServer();
    return m;
  }

  /** The config of a single-member cluster {@code name} on these loopback ports. */
  public static MemberConfig config(
      String name, Path dataDir, int clientPort, int peerPort, String token) {
    String c = "http://127.0.0.1:" + clientPort;
    String p = "http://127.0.0.1:" + peerPort;
    return MemberConfig.fromFlags(name, dataDir.toString(), c, c, p, p, null, null, token);
  }

  private void startServer() throws Exception {
    server = StoreServer.start(config);
    try {
      // A fresh member first elects itself; it is ready once a linearizable read goes through.
      await()
          .atMost(READY_WITHIN)
          .ignoreExceptions()
          .until(
              () ->
                  server
                          .member()
                          .read(false, mvcc -> mvcc.currentRevision())
                          .get(READY_WITHIN.toSeconds(), TimeUnit.SECONDS)
                      >= 1);
    } catch (RuntimeException e) {
      server.close();
      server = null;
      throw new IllegalStateException(
          "member " + config.name() + " did not serve reads within " + READY_WITHIN, e);
    }
  }

  /** Stops the member, keeping its data dir; {@link #restart} brings it back. */
  public void stop() {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  /** Stops the member if it runs, then starts it again with the same config, ports and data. */
  public void restart() throws Exception {
    stop();
    startServer();
  }

  /** The running server; fails if the member is stopped. */
  public StoreServer server() {
    if (server == null) {
      throw new IllegalStateException("member " + config.name() + " is stopped");
    }
    return server;
  }

  public MemberConfig config() {
    return config;
  }

  public int clientPort() {
    return config.listenClientUrls().get(0).getPort();
  }

  public int peerPort() {
    return config.listenPeerUrls().get(0).getPort();
  }

  /** The client endpoint as etcdctl and our clients take it: {@code 127.0.0.1:port}. */
  public String endpoint() {
    return "127.0.0.1:" + clientPort();
  }

  public String clientUrl() {
    return "http://" + endpoint();
  }

  public String peerUrl() {
    return "http://127.0.0.1:" + peerPort();
  }

  /**
   * etcdctl against this member's endpoint, written host:port (see docs/store.md on http://
   * endpoints); skips the test (locally) or fails it (CI) if etcdctl is not installed.
   */
  public EtcdProcess.Etcdctl etcdctl() {
    EtcdProcess.binary("etcdctl");
    return new EtcdProcess.Etcdctl(endpoint());
  }

  @Override
  public void close() {
    stop();
  }
}

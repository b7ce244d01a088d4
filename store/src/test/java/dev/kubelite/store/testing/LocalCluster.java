package dev.kubelite.store.testing;

import static org.awaitility.Awaitility.await;

import dev.kubelite.store.raft.Role;
import dev.kubelite.store.raft.driver.RaftDriver;
import dev.kubelite.store.server.MemberConfig;
import dev.kubelite.store.server.MemberTestHooks;
import dev.kubelite.store.server.StoreMember;
import dev.kubelite.store.server.StoreServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A cluster of Kubelite store members in this JVM on free loopback ports, for tests: members
 * "m0".."m(N-1)" of one cluster token, each with its data under {@code dir/m<i>}, bootstrapped
 * together with {@code --initial-cluster-state new}. Members are addressed by index; one can be
 * stopped and started again on the same ports and data dir.
 *
 * <p>Built with {@link #of}, optionally tuned per member ({@link Builder#tune}, e.g. a quota) and
 * given a Raft tick and snapshot cadence ({@link Builder#options}); {@link Builder#start()} starts
 * every member and returns at once: wait with {@link #awaitLeader()} or {@link
 * #awaitAllPublished()} as the test needs. Closing it stops every running member (the caller owns
 * {@code dir}, typically a {@code @TempDir}).
 */
public final class LocalCluster implements AutoCloseable {
  private static final Duration READY_WITHIN = Duration.ofSeconds(20);

  /** Tunes member {@code i}'s config (flags). */
  @FunctionalInterface
  public interface Tuning {
    MemberConfig tune(int member, MemberConfig config);
  }

  /** What to start: size, token, data dir, tuning and Raft options. */
  public static final class Builder {
    private final Path dir;
    private final String token;
    private final int size;
    private Tuning tuning = (i, c) -> c;
    private RaftDriver.Options options = RaftDriver.Options.defaults();

    private Builder(Path dir, String token, int size) {
      this.dir = dir;
      this.token = token;
      this.size = size;
    }

    /** Passes each member's config through {@code tuning} before it starts. */
    public Builder tune(Tuning tuning) {
      this.tuning = tuning;
      return this;
    }

    /** Every member runs Raft with these tick and snapshot settings (default: the product's). */
    public Builder options(RaftDriver.Options options) {
      this.options = options;
      return this;
    }

    /** Starts every member; does not wait for a leader. */
    public LocalCluster start() throws Exception {
      return start(size);
    }

    /**
     * Starts the first {@code count} members only (the others stay configured but stopped, e.g. to
     * leave a cluster without quorum); does not wait for a leader.
     */
    public LocalCluster start(int count) throws Exception {
      List<Integer> clientPorts = new ArrayList<>();
      List<Integer> peerPorts = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        clientPorts.add(FreePorts.next());
        peerPorts.add(FreePorts.next());
      }
      String initialCluster =
          IntStream.range(0, size)
              .mapToObj(i -> "m" + i + "=http://127.0.0.1:" + peerPorts.get(i))
              .collect(Collectors.joining(","));
      List<MemberConfig> configs = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        String c = "http://127.0.0.1:" + clientPorts.get(i);
        String p = "http://127.0.0.1:" + peerPorts.get(i);
        configs.add(
            tuning.tune(
                i,
                MemberConfig.fromFlags(
                    "m" + i,
                    dir.resolve("m" + i).toString(),
                    c,
                    c,
                    p,
                    p,
                    initialCluster,
                    "new",
                    token)));
      }
      LocalCluster cluster = new LocalCluster(configs, options);
      try {
        for (int i = 0; i < count; i++) {
          cluster.start(i);
        }
      } catch (Exception | Error e) {
        cluster.close();
        throw e;
      }
      return cluster;
    }
  }

  private final List<MemberConfig> configs;
  private final RaftDriver.Options options;
  private final StoreServer[] servers;

  private LocalCluster(List<MemberConfig> configs, RaftDriver.Options options) {
    this.configs = List.copyOf(configs);
    this.options = options;
    this.servers = new StoreServer[configs.size()];
  }

  /** A cluster of {@code size} members of cluster token {@code token}, data under {@code dir}. */
  public static Builder of(Path dir, String token, int size) {
    return new Builder(dir, token, size);
  }

  public int size() {
    return servers.length;
  }

  /** Starts member {@code i} (stopped, or never started) with its config, ports and data dir. */
  public void start(int i) throws Exception {
    if (servers[i] != null) {
      throw new IllegalStateException("member " + name(i) + " is already running");
    }
    servers[i] = MemberTestHooks.start(configs.get(i), options);
  }

  /** Stops member {@code i} if it runs, keeping its data dir. */
  public void stop(int i) {
    if (servers[i] != null) {
      servers[i].close();
      servers[i] = null;
    }
  }

  /** Stops member {@code i} if it runs, then starts it again on the same ports and data. */
  public void restart(int i) throws Exception {
    stop(i);
    start(i);
  }

  public boolean isRunning(int i) {
    return servers[i] != null;
  }

  /** Member {@code i}'s running server; fails if it is stopped. */
  public StoreServer server(int i) {
    if (servers[i] == null) {
      throw new IllegalStateException("member " + name(i) + " is stopped; start(" + i + ") first");
    }
    return servers[i];
  }

  /** Member {@code i}'s store member; fails if it is stopped. */
  public StoreMember member(int i) {
    return server(i).member();
  }

  /** The running servers, in member order. */
  public List<StoreServer> running() {
    List<StoreServer> out = new ArrayList<>();
    for (StoreServer s : servers) {
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * Index of the running member that is leader and that every running member follows, or -1 (none,
   * or not yet agreed).
   */
  public int leader() {
    for (int i = 0; i < servers.length; i++) {
      StoreServer s = servers[i];
      if (s != null && s.member().raftStatus().role() == Role.LEADER) {
        long id = s.member().memberId();
        boolean agreed = running().stream().allMatch(o -> o.member().raftStatus().leader() == id);
        return agreed ? i : -1;
      }
    }
    return -1;
  }

  /** Waits (up to 20 s) for a leader the running members agree on; returns its index. */
  public int awaitLeader() {
    return await()
        .atMost(READY_WITHIN)
        .alias("a leader all running members of " + configs.size() + " agree on")
        .until(this::leader, i -> i >= 0);
  }

  /**
   * Waits (up to 20 s) until there is a leader all running members agree on and every running
   * member knows all members with their client URLs (published through Raft), as etcdctl's
   * cluster-wide commands need.
   */
  public void awaitAllPublished() {
    await()
        .atMost(READY_WITHIN)
        .alias("a leader, and every member's client URLs known to every running member")
        .until(
            () ->
                leader() >= 0
                    && running().stream()
                        .allMatch(
                            s ->
                                s.member().members().size() == configs.size()
                                    && s.member().members().stream()
                                        .allMatch(m -> m.getClientURLsCount() > 0)));
  }

  public MemberConfig config(int i) {
    return configs.get(i);
  }

  public String name(int i) {
    return configs.get(i).name();
  }

  public int clientPort(int i) {
    return configs.get(i).listenClientUrls().get(0).getPort();
  }

  /** Every member's client port, in member order, running or not. */
  public List<Integer> clientPorts() {
    return IntStream.range(0, size()).mapToObj(this::clientPort).toList();
  }

  /** Member {@code i}'s client endpoint as etcdctl and our clients take it: {@code host:port}. */
  public String endpoint(int i) {
    return "127.0.0.1:" + clientPort(i);
  }

  /** Every member's endpoint, comma-separated, as etcdctl's {@code --endpoints} takes them. */
  public String endpoints() {
    return IntStream.range(0, size()).mapToObj(this::endpoint).collect(Collectors.joining(","));
  }

  public String clientUrl(int i) {
    return "http://" + endpoint(i);
  }

  /**
   * etcdctl against member {@code i}'s endpoint only; skips the test (locally) or fails it (CI) if
   * etcdctl is not installed.
   */
  public EtcdProcess.Etcdctl etcdctl(int i) {
    EtcdProcess.binary("etcdctl");
    return new EtcdProcess.Etcdctl(endpoint(i));
  }

  /** Stops every running member. */
  @Override
  public void close() {
    for (int i = 0; i < servers.length; i++) {
      stop(i);
    }
  }
}

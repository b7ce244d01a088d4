package dev.kubelite.store.server;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One store member's settings, with etcd's flag names and meanings so that unit files written for
 * etcd translate one to one. Parsing validates everything up front and names the flag at fault.
 */
public record MemberConfig(
    String name,
    Path dataDir,
    List<URI> listenClientUrls,
    List<URI> advertiseClientUrls,
    List<URI> listenPeerUrls,
    List<URI> initialAdvertisePeerUrls,
    Map<String, List<URI>> initialCluster,
    ClusterState initialClusterState,
    String initialClusterToken,
    int maxRequestBytes,
    Duration watchProgressNotifyInterval,
    long quotaBackendBytes,
    long snapshotCount,
    MemberTls tls) {

  /** Whether this member founds a new cluster or joins an existing one. */
  public enum ClusterState {
    NEW,
    EXISTING
  }

  public static final String DEFAULT_NAME = "default";
  public static final String DEFAULT_TOKEN = "etcd-cluster";

  /** etcd's default {@code --max-request-bytes}: 1.5 MiB. */
  public static final int DEFAULT_MAX_REQUEST_BYTES = 1536 * 1024;

  /** etcd's default {@code --experimental-watch-progress-notify-interval}: 10 minutes. */
  public static final Duration DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL = Duration.ofMinutes(10);

  /** etcd's DefaultQuotaBytes: the backend quota when {@code --quota-backend-bytes} is 0. */
  public static final long DEFAULT_QUOTA_BACKEND_BYTES = 2L * 1024 * 1024 * 1024;

  /**
   * etcd's default {@code --snapshot-count}: a Raft snapshot (and log compaction) after this many
   * applied entries.
   */
  public static final long DEFAULT_SNAPSHOT_COUNT = 100_000;

  /** Thrown for invalid settings; the message names the flag and what to do. */
  public static final class InvalidConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidConfigException(String message) {
      super(message);
    }
  }

  public MemberConfig {
    listenClientUrls = List.copyOf(listenClientUrls);
    advertiseClientUrls = List.copyOf(advertiseClientUrls);
    listenPeerUrls = List.copyOf(listenPeerUrls);
    initialAdvertisePeerUrls = List.copyOf(initialAdvertisePeerUrls);
    Map<String, List<URI>> cluster = new LinkedHashMap<>();
    initialCluster.forEach((k, v) -> cluster.put(k, List.copyOf(v)));
    initialCluster = Collections.unmodifiableMap(cluster);
    if (maxRequestBytes <= 0) {
      throw new InvalidConfigException(
          "--max-request-bytes must be positive (etcd's default is "
              + DEFAULT_MAX_REQUEST_BYTES
              + ")");
    }
    if (watchProgressNotifyInterval == null || watchProgressNotifyInterval.isZero()) {
      // etcd keeps its default when the flag is 0.
      watchProgressNotifyInterval = DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL;
    }
    if (snapshotCount == 0) {
      snapshotCount = DEFAULT_SNAPSHOT_COUNT; // as etcd, which keeps its default for 0
    }
    if (snapshotCount < 0) {
      throw new InvalidConfigException(
          "--snapshot-count must not be negative (etcd's default is "
              + DEFAULT_SNAPSHOT_COUNT
              + ")");
    }
    if (watchProgressNotifyInterval.isNegative()) {
      throw new InvalidConfigException(
          "--experimental-watch-progress-notify-interval must not be negative (e.g. 10m, 5s)");
    }
    validate(
        name,
        listenClientUrls,
        advertiseClientUrls,
        listenPeerUrls,
        initialAdvertisePeerUrls,
        initialCluster);
  }

  /**
   * Builds a config from etcd-style flag values; null means "flag not given" and takes etcd's
   * default (which for URLs is localhost on ports 2379/2380).
   */
  public static MemberConfig fromFlags(
      String name,
      String dataDir,
      String listenClientUrls,
      String advertiseClientUrls,
      String listenPeerUrls,
      String initialAdvertisePeerUrls,
      String initialCluster,
      String initialClusterState,
      String initialClusterToken) {
    String n = name == null ? DEFAULT_NAME : name;
    List<URI> peerAdvertise =
        urls(
            "--initial-advertise-peer-urls",
            orDefault(initialAdvertisePeerUrls, "http://localhost:2380"));
    String clusterSpec = initialCluster;
    if (clusterSpec == null) {
      StringBuilder sb = new StringBuilder();
      for (URI u : peerAdvertise) {
        sb.append(sb.length() == 0 ? "" : ",").append(n).append('=').append(u);
      }
      clusterSpec = sb.toString();
    }
    return new MemberConfig(
        n,
        Path.of(dataDir == null ? n + ".etcd" : dataDir),
        urls("--listen-client-urls", orDefault(listenClientUrls, "http://localhost:2379")),
        urls("--advertise-client-urls", orDefault(advertiseClientUrls, "http://localhost:2379")),
        urls("--listen-peer-urls", orDefault(listenPeerUrls, "http://localhost:2380")),
        peerAdvertise,
        parseInitialCluster(clusterSpec),
        parseState(initialClusterState),
        initialClusterToken == null ? DEFAULT_TOKEN : initialClusterToken,
        DEFAULT_MAX_REQUEST_BYTES,
        DEFAULT_WATCH_PROGRESS_NOTIFY_INTERVAL,
        0,
        DEFAULT_SNAPSHOT_COUNT,
        MemberTls.NONE);
  }

  /**
   * This config with TLS (etcd's {@code --cert-file}, ..., {@code --peer-client-cert-auth}); checks
   * it against the URLs: see {@link #checkTls()}.
   */
  public MemberConfig withTls(MemberTls tls) {
    MemberConfig c =
        new MemberConfig(
            name,
            dataDir,
            listenClientUrls,
            advertiseClientUrls,
            listenPeerUrls,
            initialAdvertisePeerUrls,
            initialCluster,
            initialClusterState,
            initialClusterToken,
            maxRequestBytes,
            watchProgressNotifyInterval,
            quotaBackendBytes,
            snapshotCount,
            tls);
    c.checkTls();
    return c;
  }

  /**
   * Checks that the TLS settings fit the URLs, as etcd does: an https:// client URL needs {@code
   * --cert-file} and {@code --key-file}, an https:// peer URL {@code --peer-cert-file} and {@code
   * --peer-key-file}; the files must be readable. A member's peer URLs (and those of {@code
   * --initial-cluster}) must be all http:// or all https:// (decision 0091).
   */
  public void checkTls() {
    tls.check();
    for (URI u : concat(listenClientUrls, advertiseClientUrls)) {
      if (https(u) && !tls.hasClientCert()) {
        throw new InvalidConfigException(
            u + ": an https:// client URL needs --cert-file and --key-file");
      }
    }
    List<URI> peerUrls = new ArrayList<>(concat(listenPeerUrls, initialAdvertisePeerUrls));
    initialCluster.values().forEach(peerUrls::addAll);
    for (URI u : peerUrls) {
      if (https(u) && !tls.hasPeerCert()) {
        throw new InvalidConfigException(
            u + ": an https:// peer URL needs --peer-cert-file and --peer-key-file");
      }
      if (https(u) != peerTls()) {
        throw new InvalidConfigException(
            "peer URLs mix http:// and https:// ("
                + peerUrls
                + "); a member's peer traffic is either all TLS or none");
      }
    }
  }

  /** Whether peer traffic (listening and dialing) uses TLS: the peer URLs are https://. */
  public boolean peerTls() {
    return https(listenPeerUrls.get(0));
  }

  /** Whether this member reaches other members' client ports over TLS. */
  public boolean clientTls() {
    return advertiseClientUrls.stream().anyMatch(MemberConfig::https);
  }

  static boolean https(URI u) {
    return "https".equals(u.getScheme());
  }

  private static List<URI> concat(List<URI> a, List<URI> b) {
    List<URI> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** This config with {@code --quota-backend-bytes} set (etcd's meaning: see {@link #quota()}). */
  public MemberConfig withQuotaBackendBytes(long bytes) {
    return withTuning(maxRequestBytes, watchProgressNotifyInterval, bytes, snapshotCount);
  }

  /**
   * This config with etcd's {@code --snapshot-count}: the member takes a Raft snapshot and compacts
   * its log after this many applied entries (0 keeps the default, 100,000).
   */
  public MemberConfig withSnapshotCount(long count) {
    return withTuning(maxRequestBytes, watchProgressNotifyInterval, quotaBackendBytes, count);
  }

  /**
   * The backend quota in bytes, as etcd reads {@code --quota-backend-bytes}: 0 means the default (2
   * GiB), a negative value turns the quota off ({@link Long#MAX_VALUE}).
   */
  public long quota() {
    if (quotaBackendBytes < 0) {
      return Long.MAX_VALUE;
    }
    return quotaBackendBytes == 0 ? DEFAULT_QUOTA_BACKEND_BYTES : quotaBackendBytes;
  }

  /**
   * This config with etcd's {@code --max-request-bytes}: the largest client request the member
   * accepts (larger writes fail with {@code etcdserver: request is too large}); watch responses of
   * watches created with {@code fragment} are split above this plus 512 KiB of gRPC overhead.
   */
  public MemberConfig withMaxRequestBytes(int bytes) {
    return withTuning(bytes, watchProgressNotifyInterval, quotaBackendBytes, snapshotCount);
  }

  /**
   * This config with etcd's {@code --experimental-watch-progress-notify-interval}: how often a
   * watch created with {@code progress_notify} that had no events is told the current revision (0
   * keeps the default, 10 minutes).
   */
  public MemberConfig withWatchProgressNotifyInterval(Duration interval) {
    return withTuning(maxRequestBytes, interval, quotaBackendBytes, snapshotCount);
  }

  /** This config with the flags that tune a member (the identity and URLs stay). */
  private MemberConfig withTuning(
      int maxRequest, Duration progressInterval, long quotaBytes, long snapshots) {
    return new MemberConfig(
        name,
        dataDir,
        listenClientUrls,
        advertiseClientUrls,
        listenPeerUrls,
        initialAdvertisePeerUrls,
        initialCluster,
        initialClusterState,
        initialClusterToken,
        maxRequest,
        progressInterval,
        quotaBytes,
        snapshots,
        tls);
  }

  /**
   * Parses a Go duration as etcd's flags take it ({@code 10m}, {@code 200ms}, {@code 1h30m}, {@code
   * 1.5s}, {@code 0}); units ns, us (or µs), ms, s, m, h.
   */
  static Duration goDuration(String flag, String text) {
    String s = text.trim();
    boolean negative = s.startsWith("-");
    if (negative || s.startsWith("+")) {
      s = s.substring(1);
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = GO_DURATION_PART.matcher(s);
    BigDecimal nanos = BigDecimal.ZERO;
    int at = 0;
    while (at < s.length() && m.find(at) && m.start() == at) {
      long unit =
          switch (m.group(2)) {
            case "ns" -> 1L;
            case "us", "\u00b5s" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
          };
      nanos = nanos.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)));
      at = m.end();
    }
    if (s.isEmpty() || at != s.length()) {
      throw new InvalidConfigException(
          flag + ": '" + text + "' is not a duration (e.g. 10m, 5s, 200ms, 1h30m)");
    }
    Duration d = Duration.ofNanos(nanos.longValue());
    return negative ? d.negated() : d;
  }

  private static final Pattern GO_DURATION_PART =
      Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(ns|us|\u00b5s|ms|s|m|h)");

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }

  static List<URI> urls(String flag, String value) {
    List<URI> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String s = part.trim();
      if (s.isEmpty()) {
        continue;
      }
      URI u;
      try {
        u = new URI(s);
      } catch (URISyntaxException e) {
        throw new InvalidConfigException(flag + ": '" + s + "' is not a URL: " + e.getMessage());
      }
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
        throw new InvalidConfigException(
            flag
                + ": '"
                + s
                + "' must start with http:// or https:// (e.g. http://127.0.0.1:2379)");
      }
      if (u.getHost() == null || u.getPort() <= 0) {
        throw new InvalidConfigException(
            flag + ": '" + s + "' needs a host and a port (e.g. http://127.0.0.1:2379)");
      }
      if (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/")) {
        throw new InvalidConfigException(flag + ": '" + s + "' must not have a path");
      }
      out.add(u);
    }
    if (out.isEmpty()) {
      throw new InvalidConfigException(flag + " needs at least one URL");
    }
    return out;
  }

  /** Parses {@code name1=url1,name1=url1b,name2=url2}, keeping members in the order given. */
  static Map<String, List<URI>> parseInitialCluster(String spec) {
    Map<String, List<URI>> cluster = new LinkedHashMap<>();
    for (String part : spec.split(",")) {
      String s = part.trim();
      if (s.isEmpty()) {
        continue;
      }
      int eq = s.indexOf('=');
      if (eq <= 0 || eq == s.length() - 1) {
        throw new InvalidConfigException(
            "--initial-cluster: '" + s + "' is not name=url (e.g. infra0=http://10.0.0.1:2380)");
      }
      cluster
          .computeIfAbsent(s.substring(0, eq), k -> new ArrayList<>())
          .addAll(urls("--initial-cluster", s.substring(eq + 1)));
    }
    if (cluster.isEmpty()) {
      throw new InvalidConfigException("--initial-cluster needs at least one name=url");
    }
    return cluster;
  }

  private static ClusterState parseState(String value) {
    if (value == null || value.equals("new")) {
      return ClusterState.NEW;
    }
    if (value.equals("existing")) {
      return ClusterState.EXISTING;
    }
    throw new InvalidConfigException(
        "--initial-cluster-state: '" + value + "' must be 'new' or 'existing'");
  }

  private static void validate(
      String name,
      List<URI> listenClient,
      List<URI> advertiseClient,
      List<URI> listenPeer,
      List<URI> advertisePeer,
      Map<String, List<URI>> cluster) {
    if (name == null || name.isBlank()) {
      throw new InvalidConfigException("--name must not be empty");
    }
    List<URI> mine = cluster.get(name);
    if (mine == null) {
      throw new InvalidConfigException(
          "--initial-cluster has no entry for this member's --name '"
              + name
              + "' (it lists "
              + cluster.keySet()
              + ")");
    }
    if (!new TreeSet<>(mine).equals(new TreeSet<>(advertisePeer))) {
      throw new InvalidConfigException(
          "--initial-cluster lists "
              + mine
              + " for '"
              + name
              + "' but --initial-advertise-peer-urls is "
              + advertisePeer
              + "; they must match");
    }
  }

  /** This member's id, as etcd computes it for founding members. */
  public long memberId() {
    return MemberIds.memberId(initialAdvertisePeerUrls, initialClusterToken, null);
  }

  /** Ids of every founding member, by name. */
  public Map<String, Long> initialMemberIds() {
    Map<String, Long> ids = new LinkedHashMap<>();
    initialCluster.forEach(
        (n, urls) -> ids.put(n, MemberIds.memberId(urls, initialClusterToken, null)));
    return ids;
  }

  /** The cluster id the founding members compute from their ids. */
  public long clusterId() {
    return MemberIds.clusterId(initialMemberIds().values());
  }
}

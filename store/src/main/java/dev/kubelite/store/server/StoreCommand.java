package dev.kubelite.store.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubelite store}: runs one store member, with etcd's flags and meanings. */
@Command(
    name = "store",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one member of Kubelite's store: a Raft-replicated MVCC key-value store that serves"
          + " etcd's v3 gRPC API, so etcdctl and etcd clients work against it.",
      "Flags mean what etcd's flags of the same name mean.",
      "Served today: KV (range, put, delete, txn, compact), Watch, Lease (grant, revoke,"
          + " keep-alive, time-to-live, list), Cluster (member list, add, update, promote, remove),"
          + " Maintenance: status, snapshot (`etcdctl snapshot save` writes a Kubelite state"
          + " image, not an etcd bbolt file), alarm list/disarm with the NOSPACE quota alarm,"
          + " defrag, hash and hashkv, move-leader.",
      "TLS as etcd: https:// URLs with --cert-file/--key-file (client port) and"
          + " --peer-cert-file/--peer-key-file (peer port); --client-cert-auth and"
          + " --peer-client-cert-auth require certificates signed by --trusted-ca-file and"
          + " --peer-trusted-ca-file.",
      "`kubelite store snapshot restore FILE ...` builds a new member's data dir from such a"
          + " file (see docs/store.md)."
    },
    subcommands = {SnapshotCommand.class})
public final class StoreCommand implements Callable<Integer> {

  @Option(names = "--name", description = "Human-readable name for this member (default: default).")
  String name;

  @Option(names = "--data-dir", description = "Path to the data directory (default: <name>.etcd).")
  String dataDir;

  @Option(
      names = "--listen-client-urls",
      description = "URLs to serve clients on (default: http://localhost:2379).")
  String listenClientUrls;

  @Option(
      names = "--advertise-client-urls",
      description = "Client URLs to tell the rest of the cluster (default: http://localhost:2379).")
  String advertiseClientUrls;

  @Option(
      names = "--listen-peer-urls",
      description = "URLs to listen on for peer traffic (default: http://localhost:2380).")
  String listenPeerUrls;

  @Option(
      names = "--initial-advertise-peer-urls",
      description =
          "This member's peer URLs to tell the rest of the cluster"
              + " (default: http://localhost:2380).")
  String initialAdvertisePeerUrls;

  @Option(
      names = "--initial-cluster",
      description =
          "Founding members, as name=peer-url,... (default: <name>=<advertise peer url>).")
  String initialCluster;

  @Option(
      names = "--initial-cluster-state",
      description = "new (found a cluster) or existing (join one) (default: new).")
  String initialClusterState;

  @Option(
      names = "--initial-cluster-token",
      description = "Cluster token, which keeps clusters apart (default: etcd-cluster).")
  String initialClusterToken;

  @Option(
      names = "--max-request-bytes",
      description =
          "Maximum client request size in bytes the server will accept (default: 1572864);"
              + " also where responses of watches created with `fragment` are split"
              + " (this plus 512 KiB).")
  Integer maxRequestBytes;

  @Option(
      names = "--experimental-watch-progress-notify-interval",
      description =
          "Duration of periodical watch progress notification, as a Go duration such as 10m,"
              + " 5s or 200ms (default: 10m).")
  String watchProgressNotifyInterval;

  @Option(
      names = "--quota-backend-bytes",
      description =
          "Raise the NOSPACE alarm and refuse writes that add data once the MVCC backend (live"
              + " RocksDB SST files plus memtables) would exceed this many bytes; 0 means the"
              + " default 2 GiB, a negative value turns the quota off (default: 0).")
  long quotaBackendBytes;

  @Option(
      names = "--snapshot-count",
      description =
          "Number of committed transactions to trigger a snapshot to disk (a Raft snapshot, after"
              + " which the log keeps 5,000 entries); 0 means the default (default: 100000).")
  long snapshotCount;

  @Option(names = "--cert-file", description = "Path to the client server TLS cert file.")
  Path certFile;

  @Option(names = "--key-file", description = "Path to the client server TLS key file.")
  Path keyFile;

  @Option(
      names = "--trusted-ca-file",
      description = "Path to the client server TLS trusted CA cert file.")
  Path trustedCaFile;

  @Option(
      names = "--client-cert-auth",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Enable client cert authentication: https:// clients must present a certificate signed"
              + " by --trusted-ca-file (default: false).")
  boolean clientCertAuth;

  @Option(names = "--peer-cert-file", description = "Path to the peer server TLS cert file.")
  Path peerCertFile;

  @Option(names = "--peer-key-file", description = "Path to the peer server TLS key file.")
  Path peerKeyFile;

  @Option(
      names = "--peer-trusted-ca-file",
      description = "Path to the peer server TLS trusted CA file.")
  Path peerTrustedCaFile;

  @Option(
      names = "--peer-client-cert-auth",
      arity = "0..1",
      fallbackValue = "true",
      description =
          "Enable peer client cert authentication: peers must present a certificate signed by"
              + " --peer-trusted-ca-file (default: false).")
  boolean peerClientCertAuth;

  /** The member config these flags describe; throws naming the flag at fault. */
  MemberConfig config() {
    MemberConfig config =
        MemberConfig.fromFlags(
            name,
            dataDir,
            listenClientUrls,
            advertiseClientUrls,
            listenPeerUrls,
            initialAdvertisePeerUrls,
            initialCluster,
            initialClusterState,
            initialClusterToken);
    if (maxRequestBytes != null) {
      config = config.withMaxRequestBytes(maxRequestBytes);
    }
    if (watchProgressNotifyInterval != null) {
      config =
          config.withWatchProgressNotifyInterval(
              MemberConfig.goDuration(
                  "--experimental-watch-progress-notify-interval", watchProgressNotifyInterval));
    }
    return config
        .withQuotaBackendBytes(quotaBackendBytes)
        .withSnapshotCount(snapshotCount)
        .withTls(
            new MemberTls(
                certFile,
                keyFile,
                trustedCaFile,
                clientCertAuth,
                peerCertFile,
                peerKeyFile,
                peerTrustedCaFile,
                peerClientCertAuth));
  }

  @Override
  public Integer call() throws Exception {
    MemberConfig config;
    try {
      config = config();
    } catch (MemberConfig.InvalidConfigException e) {
      System.err.println("kubelite store: " + e.getMessage());
      return 2;
    }
    StoreServer server = StoreServer.start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                },
                "store-shutdown"));
    System.err.println(
        "kubelite store: member "
            + config.name()
            + " ("
            + MemberIds.hex(config.memberId())
            + ") ready; clients on "
            + config.advertiseClientUrls());
    stopped.await();
    return 0;
  }

  public static void main(String[] args) {
    int code = new CommandLine(new StoreCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}

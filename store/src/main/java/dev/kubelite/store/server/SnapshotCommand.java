package dev.kubelite.store.server;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubelite store snapshot ...}: offline work on snapshot files. */
@Command(
    name = "snapshot",
    mixinStandardHelpOptions = true,
    description = {
      "Works on snapshot files: Kubelite state images, as `etcdctl snapshot save` writes them when"
          + " pointed at a Kubelite store (they are not etcd bbolt files)."
    },
    subcommands = {SnapshotCommand.Restore.class})
public final class SnapshotCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: restore");
  }

  /** {@code kubelite store snapshot restore FILE ...}, with etcdctl's flags. */
  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description = {
        "Builds a new member's data dir from a snapshot file, as `etcdctl snapshot restore` does:"
            + " keys, revisions and leases are kept; the cluster gets a new identity (member and"
            + " cluster ids) from the flags. Run it once per member of the new cluster, with the"
            + " same file and --initial-cluster, then start each member with the same flags."
      })
  public static final class Restore implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "The snapshot file.")
    Path file;

    @Option(names = "--name", description = "This member's name (default: default).")
    String name;

    @Option(
        names = "--data-dir",
        description = "The data dir to create; must not exist or be empty (default: <name>.etcd).")
    String dataDir;

    @Option(
        names = "--initial-cluster",
        description = "The new cluster's members, as name=peer-url,...")
    String initialCluster;

    @Option(
        names = "--initial-cluster-token",
        description = "The new cluster's token (default: etcd-cluster).")
    String initialClusterToken;

    @Option(
        names = "--initial-advertise-peer-urls",
        description = "This member's peer URLs (default: http://localhost:2380).")
    String initialAdvertisePeerUrls;

    @Override
    public Integer call() {
      try {
        MemberConfig config =
            MemberConfig.fromFlags(
                name,
                dataDir,
                null,
                null,
                null,
                initialAdvertisePeerUrls,
                initialCluster,
                null,
                initialClusterToken);
        SnapshotRestore.Result r = SnapshotRestore.restore(file, config);
        System.out.println(
            "restored "
                + file
                + " into "
                + config.dataDir()
                + ": revision "
                + r.revision()
                + ", raft index "
                + r.raftIndex()
                + ", member "
                + MemberIds.hex(r.memberId())
                + ", cluster "
                + MemberIds.hex(r.clusterId()));
        return 0;
      } catch (MemberConfig.InvalidConfigException | StateImage.InvalidImageException e) {
        System.err.println("kubelite store snapshot restore: " + e.getMessage());
        return 2;
      }
    }
  }
}

package dev.kubelite.store.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * A member's id and its cluster's id, kept in {@code member/identity} from the first start on (etcd
 * keeps them in its WAL metadata). Both are derived from the flags only once: after {@code etcdctl
 * member update} the member restarts with new peer URLs, from which the flags would derive another
 * id. A data dir without the file (written before it existed) takes the ids from the flags.
 *
 * <p>Format: text, {@code member=<hex>} and {@code cluster=<hex>} lines.
 */
record MemberIdentity(long memberId, long clusterId) {

  static MemberIdentity loadOrCreate(Path file, long memberIdFromFlags, long clusterIdFromFlags) {
    if (Files.exists(file)) {
      return read(file);
    }
    MemberIdentity id = new MemberIdentity(memberIdFromFlags, clusterIdFromFlags);
    id.write(file);
    return id;
  }

  static MemberIdentity read(Path file) {
    try {
      Map<String, String> kv = new HashMap<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          kv.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
        }
      }
      if (!kv.containsKey("member") || !kv.containsKey("cluster")) {
        throw new IllegalStateException(
            "member identity file "
                + file
                + " lacks a member= or cluster= line; restore it from a backup of this data dir");
      }
      return new MemberIdentity(
          Long.parseUnsignedLong(kv.get("member"), 16),
          Long.parseUnsignedLong(kv.get("cluster"), 16));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the member identity file " + file, e);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(
          "member identity file " + file + " holds an id that is not hex: " + e.getMessage(), e);
    }
  }

  void write(Path file) {
    String text =
        "member=" + MemberIds.hex(memberId) + "\ncluster=" + MemberIds.hex(clusterId) + "\n";
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the member identity file " + file, e);
    }
  }
}

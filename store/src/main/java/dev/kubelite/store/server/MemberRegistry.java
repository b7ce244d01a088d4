package dev.kubelite.store.server;

import dev.kubelite.store.api.kubelitepb.MemberAttributes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * The members this member knows (id → name and URLs), kept in {@code member/members.pb} and
 * rewritten atomically on every membership change. Changes are applied from the Raft log; this file
 * only spares a restart from replaying entries the log may have compacted away.
 */
public final class MemberRegistry {
  private final Path file;
  private final Map<Long, MemberAttributes> members = new TreeMap<>();

  MemberRegistry(Path file) {
    this.file = file;
    if (Files.exists(file)) {
      try {
        members.putAll(decode(Files.readAllBytes(file)));
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot read the member registry " + file + "; restore it from a healthy member", e);
      } catch (UncheckedIOException e) {
        throw new UncheckedIOException(
            "cannot read the member registry " + file + "; restore it from a healthy member",
            e.getCause());
      }
    }
  }

  /** Parses registry bytes as {@link #encode} writes them (the {@code members.pb} format). */
  static Map<Long, MemberAttributes> decode(byte[] bytes) {
    try {
      Map<Long, MemberAttributes> out = new TreeMap<>();
      for (var r :
          dev.kubelite.store.api.kubelitepb.MemberRegistry.parseFrom(bytes).getMembersList()) {
        out.put(r.getId(), r.getAttributes());
      }
      return out;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new UncheckedIOException("the member registry is not readable", e);
    }
  }

  /** The registry as {@code members.pb} holds it. */
  synchronized byte[] encode() {
    var b = dev.kubelite.store.api.kubelitepb.MemberRegistry.newBuilder();
    members.forEach(
        (id, a) ->
            b.addMembers(
                dev.kubelite.store.api.kubelitepb.MemberRegistry.Record.newBuilder()
                    .setId(id)
                    .setAttributes(a)));
    return b.build().toByteArray();
  }

  /** Replaces every member (a snapshot image or an offline restore), durably. */
  synchronized void replaceAll(Map<Long, MemberAttributes> all) {
    members.clear();
    members.putAll(all);
    persist();
  }

  public synchronized Map<Long, MemberAttributes> snapshot() {
    return Map.copyOf(members);
  }

  synchronized void put(long id, MemberAttributes attributes) {
    if (!attributes.equals(members.put(id, attributes))) {
      persist();
    }
  }

  synchronized void remove(long id) {
    if (members.remove(id) != null) {
      persist();
    }
  }

  private void persist() {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.write(tmp, encode());
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the member registry " + file, e);
    }
  }
}

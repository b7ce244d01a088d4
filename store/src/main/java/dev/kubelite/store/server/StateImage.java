package dev.kubelite.store.server;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * "The whole store state at applied index N" as one byte stream: the files of a RocksDB checkpoint
 * of the MVCC store (which carries the applied Raft index in its meta keys) and the member registry
 * ({@code members.pb}), followed by a SHA-256 of everything before it. The same bytes are the data
 * of a Raft snapshot a leader sends to a follower that is behind its log, what {@code
 * Maintenance.Snapshot} streams (so what {@code etcdctl snapshot save} writes to disk), and what
 * {@code kubelite store snapshot restore} reads.
 *
 * <p>Format (big-endian):
 *
 * <pre>
 *   "KLSTATE1"                         8 bytes: magic and format version
 *   applied index, revision, compacted revision   3 × u64 (informational; the checkpoint is the truth)
 *   file count                         u32
 *   per file: name length u16, name (UTF-8: "db/&lt;file&gt;" or "members.pb"), size u64, bytes
 *   zero padding to a multiple of 512 bytes
 *   SHA-256 of all preceding bytes     32 bytes
 * </pre>
 *
 * Images are written as a stream, to a file, when a follower needs one (docs/decisions/0105), and
 * read in memory (a {@code byte[]}, as the Raft {@code Snapshot} that carries one to the follower
 * holds it), which bounds the store size they can carry; see docs/store.md. A member's own Raft
 * snapshots carry only a {@link #metadataMarker}.
 */
public final class StateImage {
  static final byte[] MAGIC = "KLSTATE1".getBytes(StandardCharsets.US_ASCII);
  static final String DB_PREFIX = "db/";
  static final String MEMBERS = "members.pb";
  private static final int DIGEST_BYTES = 32;

  /**
   * The body is zero-padded to a multiple of this, so an image's length is 32 modulo 512: the only
   * property {@code etcdctl snapshot save} (3.4.x) checks of what it downloads ({@code hasChecksum}
   * in clientv3/snapshot), and the shape of etcd's own "bbolt file + SHA-256" snapshots.
   */
  static final int ALIGN = 512;

  private StateImage() {}

  /** The informational header of an image. */
  public record Header(long appliedIndex, long revision, long compactRevision) {}

  /** A verified image: its header, its checkpoint files by name, and the member registry bytes. */
  public record Contents(Header header, List<NamedBytes> dbFiles, byte[] members) {}

  /** One file of the image. */
  public record NamedBytes(String name, byte[] data) {}

  /** Thrown when bytes are not a valid, intact image. */
  public static final class InvalidImageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InvalidImageException(String message) {
      super(message);
    }
  }

  /**
   * Packs the checkpoint in {@code dbDir} (RocksDB's LOCK and LOG files are left out) and the
   * registry bytes into an image in memory. {@link #packTo} writes the same bytes to a stream.
   */
  static byte[] pack(Header header, Path dbDir, byte[] members) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    packTo(header, dbDir, members, bytes);
    return bytes.toByteArray();
  }

  /**
   * Writes the image of the checkpoint in {@code dbDir} and the registry bytes to {@code out}, file
   * by file (the image is never whole in memory), and returns its length.
   */
  static long packTo(Header header, Path dbDir, byte[] members, OutputStream out) {
    PACKS_BY_THREAD.merge(Thread.currentThread().getName(), 1L, Long::sum);
    try {
      List<Path> files;
      try (Stream<Path> s = Files.list(dbDir)) {
        files =
            s.filter(Files::isRegularFile)
                .filter(p -> !skipped(p.getFileName().toString()))
                .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                .toList();
      }
      MessageDigest sha = sha256();
      CountingOutputStream counting = new CountingOutputStream(new DigestOutputStream(out, sha));
      DataOutputStream data = new DataOutputStream(counting);
      data.write(MAGIC);
      data.writeLong(header.appliedIndex());
      data.writeLong(header.revision());
      data.writeLong(header.compactRevision());
      data.writeInt(files.size() + 1);
      for (Path f : files) {
        byte[] n = (DB_PREFIX + f.getFileName()).getBytes(StandardCharsets.UTF_8);
        data.writeShort(n.length);
        data.write(n);
        data.writeLong(Files.size(f));
        long copied = Files.copy(f, data);
        if (copied != Files.size(f)) {
          throw new IOException(f + " changed while it was packed (a checkpoint file must not)");
        }
      }
      writeEntry(data, MEMBERS, members);
      data.write(new byte[(int) ((ALIGN - counting.count % ALIGN) % ALIGN)]);
      data.flush();
      long body = counting.count;
      out.write(sha.digest());
      out.flush();
      return body + DIGEST_BYTES;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot pack a state image from " + dbDir, e);
    }
  }

  /**
   * How many images each thread packed since the JVM started: diagnostics for tests, which check
   * that no Raft thread packs one (docs/decisions/0105).
   */
  static final java.util.concurrent.ConcurrentHashMap<String, Long> PACKS_BY_THREAD =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Images packed so far on threads whose name starts with {@code prefix}. */
  static long packsOnThreads(String prefix) {
    return PACKS_BY_THREAD.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .mapToLong(java.util.Map.Entry::getValue)
        .sum();
  }

  /** Counts the bytes written through it. */
  private static final class CountingOutputStream extends FilterOutputStream {
    long count;

    CountingOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }
  }

  /**
   * The data of a local Raft snapshot (docs/decisions/0105): only this marker and the index. The
   * state is the member's own MVCC database, durable up to the index before the log was compacted;
   * a follower that needs the state gets an image built when it needs it.
   */
  static byte[] metadataMarker(long index) {
    return ByteBuffer.allocate(META_MAGIC.length + 8).put(META_MAGIC).putLong(index).array();
  }

  /** Whether a Raft snapshot's data is a {@link #metadataMarker} (or empty), not an image. */
  static boolean isMetadataOnly(byte[] data) {
    return data.length == 0
        || (data.length == META_MAGIC.length + 8
            && Arrays.equals(data, 0, META_MAGIC.length, META_MAGIC, 0, META_MAGIC.length));
  }

  static final byte[] META_MAGIC = "KLSNMETA".getBytes(StandardCharsets.US_ASCII);

  private static boolean skipped(String name) {
    return name.equals("LOCK") || name.startsWith("LOG");
  }

  private static void writeEntry(DataOutputStream out, String name, byte[] data)
      throws IOException {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    out.writeShort(n.length);
    out.write(n);
    out.writeLong(data.length);
    out.write(data);
  }

  /** Checks the magic and checksum and parses the image. */
  public static Contents read(byte[] image) {
    if (image.length < MAGIC.length + 28 + DIGEST_BYTES
        || !Arrays.equals(image, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new InvalidImageException(
          "not a Kubelite state image (it must start with "
              + new String(MAGIC, StandardCharsets.US_ASCII)
              + "); etcd's own bbolt snapshots cannot be restored into Kubelite");
    }
    int body = image.length - DIGEST_BYTES;
    if (!Arrays.equals(sha256(image, body), 0, DIGEST_BYTES, image, body, body + DIGEST_BYTES)) {
      throw new InvalidImageException(
          "the state image's SHA-256 does not match its contents: the file is truncated or"
              + " corrupt");
    }
    ByteBuffer buf = ByteBuffer.wrap(image, 0, body);
    buf.position(MAGIC.length);
    Header header = new Header(buf.getLong(), buf.getLong(), buf.getLong());
    int count = buf.getInt();
    List<NamedBytes> db = new ArrayList<>();
    byte[] members = null;
    try {
      for (int i = 0; i < count; i++) {
        byte[] n = new byte[Short.toUnsignedInt(buf.getShort())];
        buf.get(n);
        String name = new String(n, StandardCharsets.UTF_8);
        long size = buf.getLong();
        if (size < 0 || size > buf.remaining()) {
          throw new InvalidImageException("entry " + name + " claims " + size + " bytes");
        }
        byte[] data = new byte[(int) size];
        buf.get(data);
        if (name.equals(MEMBERS)) {
          members = data;
        } else if (name.startsWith(DB_PREFIX)
            && name.length() > DB_PREFIX.length()
            && name.indexOf('/', DB_PREFIX.length()) < 0
            && !name.substring(DB_PREFIX.length()).startsWith(".")) {
          db.add(new NamedBytes(name.substring(DB_PREFIX.length()), data));
        } else {
          throw new InvalidImageException("unexpected entry '" + name + "' in the state image");
        }
      }
    } catch (java.nio.BufferUnderflowException e) {
      throw new InvalidImageException("the state image ends in the middle of an entry");
    }
    if (buf.remaining() >= ALIGN) {
      throw new InvalidImageException("trailing bytes after the last entry of the state image");
    }
    while (buf.hasRemaining()) {
      if (buf.get() != 0) {
        throw new InvalidImageException("non-zero padding after the last entry of the state image");
      }
    }
    if (members == null || db.isEmpty()) {
      throw new InvalidImageException("the state image lacks its database or member registry");
    }
    return new Contents(header, db, members);
  }

  /** Writes the checkpoint files into {@code dbDir} (created, must not exist) and syncs them. */
  static void extractDb(Contents image, Path dbDir) {
    try {
      Files.createDirectories(dbDir.getParent());
      Files.createDirectory(dbDir);
      for (NamedBytes f : image.dbFiles()) {
        Path p = dbDir.resolve(f.name());
        try (FileChannel ch =
            FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          ByteBuffer b = ByteBuffer.wrap(f.data());
          while (b.hasRemaining()) {
            ch.write(b);
          }
          ch.force(true);
        }
      }
      fsyncDir(dbDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the image's database to " + dbDir, e);
    }
  }

  static void fsyncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  static void deleteRecursively(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + p, e);
    }
  }

  private static byte[] sha256(byte[] data, int length) {
    MessageDigest md = sha256();
    md.update(data, 0, length);
    return md.digest();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256, which every JDK must provide", e);
    }
  }
}

package dev.kubelite.store.raft.wal;

import dev.kubelite.store.raft.wal.WalFormat.SnapshotMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Snapshot data files: {@code snap-<index, 20 digits>.snap} holding {@code [u32 magic][u32
 * version][u64 index][u64 term][u64 data length][data][u32 CRC32C of data]}. Written to a temp
 * file, synced, renamed into place and the directory synced, so a reader sees a whole file or none.
 */
final class SnapshotFiles {
  private SnapshotFiles() {}

  static final int MAGIC = 0x4b4c534e; // "KLSN"
  static final int HEADER_BYTES = 4 + 4 + 8 + 8 + 8;
  static final Pattern NAME = Pattern.compile("snap-(\\d{20})\\.snap");
  static final String TEMP_SUFFIX = ".tmp";

  static String name(long index) {
    return String.format("snap-%020d.snap", index);
  }

  /** The snapshot index a file name stands for, or -1 if it is not a snapshot file name. */
  static long indexOf(String fileName) {
    Matcher m = NAME.matcher(fileName);
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** Writes the snapshot file durably; {@code dataCrc} is the CRC32C of {@code data}. */
  static void write(Path dir, long index, long term, byte[] data, int dataCrc) throws IOException {
    Path target = dir.resolve(name(index));
    Path temp = dir.resolve(name(index) + TEMP_SUFFIX);
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    header.putInt(MAGIC).putInt(WalFormat.FORMAT_VERSION).putLong(index).putLong(term);
    header.putLong(data.length).flip();
    ByteBuffer trailer = ByteBuffer.allocate(4).putInt(dataCrc).flip();
    ByteBuffer[] parts = {header, ByteBuffer.wrap(data), trailer};
    try (FileChannel ch =
        FileChannel.open(
            temp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      long total = HEADER_BYTES + (long) data.length + 4;
      long written = 0;
      while (written < total) {
        written += ch.write(parts);
      }
      ch.force(true);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Dirs.fsync(dir);
  }

  /** Reads and verifies the file the WAL's snapshot metadata points to. */
  static byte[] read(Path dir, SnapshotMeta meta) {
    Path file = dir.resolve(name(meta.index()));
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new WalCorruptionException(
          "The Raft log records a snapshot at index "
              + meta.index()
              + " but its data file "
              + file
              + " is missing.",
          e);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("failed to read snapshot file " + file, e);
    }
    String problem = verify(bytes, meta);
    if (problem != null) {
      throw new WalCorruptionException(
          "Snapshot file " + file + " is corrupt or does not match the log: " + problem + ".");
    }
    byte[] data = new byte[(int) meta.dataLength()];
    System.arraycopy(bytes, HEADER_BYTES, data, 0, data.length);
    return data;
  }

  private static String verify(byte[] bytes, SnapshotMeta meta) {
    if (bytes.length < HEADER_BYTES + 4) {
      return "file is " + bytes.length + " bytes, shorter than its header";
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int magic = b.getInt();
    int version = b.getInt();
    long index = b.getLong();
    long term = b.getLong();
    long length = b.getLong();
    if (magic != MAGIC) {
      return "bad magic number";
    }
    if (version != WalFormat.FORMAT_VERSION) {
      return "format version " + version + ", this build reads " + WalFormat.FORMAT_VERSION;
    }
    if (index != meta.index() || term != meta.term()) {
      return "file holds "
          + index
          + "@"
          + term
          + ", log expects "
          + meta.index()
          + "@"
          + meta.term();
    }
    if (length != meta.dataLength() || bytes.length != HEADER_BYTES + length + 4) {
      return "data length "
          + length
          + " (file size "
          + bytes.length
          + "), log expects "
          + meta.dataLength();
    }
    int stored = b.getInt(HEADER_BYTES + (int) length);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(bytes, HEADER_BYTES, (int) length);
    int actual = (int) crc.getValue();
    if (actual != stored) {
      return "checksum mismatch";
    }
    if (actual != meta.dataCrc()) {
      return "checksum differs from the one the log recorded (a different snapshot at this index)";
    }
    return null;
  }
}

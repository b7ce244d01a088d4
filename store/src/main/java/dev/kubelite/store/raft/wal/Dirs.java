package dev.kubelite.store.raft.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Directory durability: after creating, renaming or deleting a file, sync its directory. */
final class Dirs {
  private Dirs() {}

  /** Makes the directory's entries (file creations, renames, deletions) durable. POSIX only. */
  static void fsync(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}

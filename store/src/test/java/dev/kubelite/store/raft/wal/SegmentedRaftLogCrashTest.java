package dev.kubelite.store.raft.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.raft.Entry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real crashes: a child JVM appends to the log and acknowledges each durable index on stdout; the
 * test SIGKILLs it mid-write and checks that every acknowledged entry survived, intact.
 */
class SegmentedRaftLogCrashTest {
  private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(60);
  private static final String EOF = "<eof>";

  @TempDir Path tmp;

  @Test
  void everyAcknowledgedEntrySurvivesSigkill() throws Exception {
    Path dir = tmp.resolve("log");
    Random rnd = new Random(Long.getLong("wal.seed", 7));
    long acknowledged = 0; // highest index any child acknowledged, across all runs
    int runs = Integer.getInteger("wal.crashRuns", 5);
    for (int run = 1; run <= runs; run++) {
      long target = acknowledged + 200 + rnd.nextInt(3000);
      long acked = crashChildAfter(dir, run, rnd.nextLong(), target, "run " + run);
      assertThat(acked)
          .as("run %s acknowledged up to its target", run)
          .isGreaterThanOrEqualTo(target);
      acknowledged = Math.max(acknowledged, acked);
      verify(dir, acknowledged, "after run " + run);
    }
  }

  /** Runs a child until it acknowledged {@code target}, SIGKILLs it; returns the highest ACK. */
  private long crashChildAfter(Path dir, long term, long seed, long target, String what)
      throws IOException, InterruptedException {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path stderr = tmp.resolve("child-" + term + ".err");
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "-Dkubelite.log.level=WARN",
                SegmentedRaftLogCrashChild.class.getName(),
                dir.toString(),
                Long.toString(term),
                Long.toString(seed))
            .redirectError(stderr.toFile())
            .start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  lines.add(line);
                }
              } catch (IOException e) {
                lines.add("<read error " + e + ">");
              } finally {
                lines.add(EOF);
              }
            },
            "crash-child-stdout");
    reader.setDaemon(true);
    reader.start();
    long acked = 0;
    long deadline = System.nanoTime() + DEADLINE_NANOS;
    try {
      while (acked < target) {
        String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (line == null || line.equals(EOF)) {
          throw new AssertionError(
              what
                  + ": child "
                  + (line == null ? "too slow" : "exited (" + child.waitFor() + ")")
                  + " before acknowledging "
                  + target
                  + "; last ack "
                  + acked
                  + "; stderr:\n"
                  + Files.readString(stderr));
        }
        acked = Math.max(acked, parseAck(line));
      }
    } finally {
      // SIGKILL, most likely in the middle of a write. Through the ProcessHandle, because
      // Process.destroyForcibly() also closes our end of the pipe, losing acknowledgements the
      // child printed just before it died.
      child.toHandle().destroyForcibly();
      child.waitFor(30, TimeUnit.SECONDS);
    }
    // Lines the child printed before it died were acknowledged too: read them to the end.
    for (String line = lines.poll(30, TimeUnit.SECONDS);
        line != null && !line.equals(EOF);
        line = lines.poll(30, TimeUnit.SECONDS)) {
      acked = Math.max(acked, parseAck(line));
    }
    assertThat(child.isAlive()).isFalse();
    return acked;
  }

  private static long parseAck(String line) {
    if (line.startsWith("ACK ")) {
      return Long.parseLong(line.substring(4));
    }
    if (line.startsWith("READY ")) {
      return 0;
    }
    throw new AssertionError("unexpected child output: " + line);
  }

  private static void verify(Path dir, long acknowledged, String what) {
    try (SegmentedRaftLog log =
        SegmentedRaftLog.open(dir, SegmentedRaftLogCrashChild.SEGMENT_BYTES)) {
      assertThat(log.lastIndex()).as("%s: last index", what).isGreaterThanOrEqualTo(acknowledged);
      assertThat(log.snapshot().index())
          .as("%s: compacted entries are covered by the snapshot", what)
          .isGreaterThanOrEqualTo(log.firstIndex() - 1);
      List<Entry> entries =
          new ArrayList<>(log.entries(log.firstIndex(), log.lastIndex() + 1, Long.MAX_VALUE));
      long expectedIndex = log.firstIndex();
      for (Entry e : entries) {
        assertThat(e.index()).as("%s: contiguous", what).isEqualTo(expectedIndex++);
        assertThat(e.data())
            .as("%s: data of entry %s", what, e.index())
            .isEqualTo(SegmentedRaftLogCrashChild.dataFor(e.index()));
      }
      assertThat(log.hardState().commit()).isLessThanOrEqualTo(log.lastIndex());
    } catch (UncheckedIOException e) {
      throw new AssertionError(what + ": reopen failed", e);
    }
  }
}

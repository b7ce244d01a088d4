package dev.kubelite.store.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubelite.store.mvcc.Responses.RangeResponse;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real crash: a child JVM applies entries and is SIGKILLed mid-stream. After reopening, the store
 * must be exactly the state of entries 1..appliedIndex (no torn batch, nothing applied twice), at
 * least every acknowledged entry must be there, and replaying the whole log must reach the same
 * state as a store that never crashed.
 */
class MvccCrashTest {
  private static final long SEED = 11;

  @TempDir Path tmp;

  @Test
  void sigkillDuringApplyLeavesAnExactPrefixAndReplayConverges() throws Exception {
    Path dir = tmp.resolve("node");
    long acked = 0;
    for (int run = 0; run < 3; run++) {
      acked = Math.max(acked, runAndKill(dir, acked + 300));
      try (MvccStore s = MvccStore.open(dir)) {
        assertThat(s.appliedIndex()).isGreaterThanOrEqualTo(acked);
        try (MvccStore ref = reference(tmp.resolve("ref-" + run), s.appliedIndex())) {
          assertThat(everything(s)).isEqualTo(everything(ref));
        }
      }
    }
    try (MvccStore s = MvccStore.open(dir)) {
      // The child may have applied well past its last acknowledgement before the kill landed.
      long end = s.appliedIndex() + 200;
      replayAndCompare(s, end);
    }
  }

  private void replayAndCompare(MvccStore s, long end) throws Exception {
    try (MvccStore ref = reference(tmp.resolve("ref-final"), end)) {
      for (long i = 1; i <= end; i++) {
        try {
          s.apply(i, MvccCrashChild.command(SEED, i));
        } catch (MvccException e) {
          assertThat(e.code()).isNotNull();
        }
      }
      assertThat(s.appliedIndex()).isEqualTo(end);
      assertThat(everything(s)).isEqualTo(everything(ref));
    }
  }

  private static MvccStore reference(Path dir, long upTo) {
    MvccStore ref = MvccStore.open(dir);
    for (long i = 1; i <= upTo; i++) {
      try {
        ref.apply(i, MvccCrashChild.command(SEED, i));
      } catch (MvccException e) {
        assertThat(e.code()).isNotNull();
      }
    }
    return ref;
  }

  /** Every readable revision, plus the meta values. */
  private static List<Object> everything(MvccStore s) throws MvccException {
    List<Object> out = new ArrayList<>();
    out.add(s.currentRevision());
    out.add(s.compactRevision());
    for (long rev = Math.max(1, s.compactRevision()); rev <= s.currentRevision(); rev++) {
      RangeResponse r = s.range(Range.of(new byte[] {0}, new byte[] {0}).withRevision(rev));
      out.add(r.kvs());
    }
    return out;
  }

  private long runAndKill(Path dir, long target) throws Exception {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path err = tmp.resolve("child.err");
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "-Dkubelite.log.level=WARN",
                MvccCrashChild.class.getName(),
                dir.toString(),
                Long.toString(SEED))
            .redirectError(err.toFile())
            .start();
    long acked = 0;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (acked < target) {
        String line = r.readLine();
        if (line == null || System.nanoTime() > deadline) {
          throw new AssertionError(
              "child stopped before index " + target + ": " + Files.readString(err));
        }
        acked = Long.parseLong(line.trim());
      }
      child.toHandle().destroyForcibly(); // SIGKILL, most likely in the middle of an apply
      child.waitFor(30, TimeUnit.SECONDS);
    } finally {
      child.toHandle().destroyForcibly();
    }
    return acked;
  }
}

package dev.kubelite.kubectl.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/kubectl-lite}'s class-data-sharing archive (decisions 0081, 0083), as processes: made
 * on the first run when missing, made again when older than a jar on the class path or made by
 * another java, and an archive the JVM cannot use costs nothing but speed: the command runs and
 * prints only its own output. Works on the build's own archive, which it leaves fresh.
 */
class StartupArchiveIT {
  private static final Path ROOT =
      Path.of(System.getProperty("kubelite.root", "..")).toAbsolutePath();
  private static final Path JSA = ROOT.resolve("kubectl-lite/target/kubectl-lite.jsa");
  private static final Path STAMP = ROOT.resolve("kubectl-lite/target/kubectl-lite.jsa.java");
  private static final Path FAILED = ROOT.resolve("kubectl-lite/target/kubectl-lite.jsa.failed");

  @TempDir Path dir;

  record Result(int exitCode, String stdout, String stderr) {}

  Result kubectlLite(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("bin/kubectl-lite").toString()));
    cmd.addAll(List.of(args));
    Path out = dir.resolve("out");
    Path err = dir.resolve("err");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(ROOT.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("kubectl-lite finished").isTrue();
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  Result version() throws Exception {
    return kubectlLite(Map.of(), "--version");
  }

  static void assertPlainVersion(Result r) {
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).startsWith("kubectl-lite ");
    assertThat(r.stderr()).as("nothing but the command's own output").isEmpty();
  }

  static void removeArchive() throws IOException {
    Files.deleteIfExists(JSA);
    Files.deleteIfExists(STAMP);
    Files.deleteIfExists(FAILED);
  }

  @Test
  void aMissingArchiveIsMadeOnTheFirstRunAndThenUsed() throws Exception {
    removeArchive();
    assertPlainVersion(version());
    assertThat(JSA).exists();
    assertThat(Files.readString(STAMP).trim()).endsWith("/java");

    // The next run maps it: picocli (compiled for Java 17 at build time), the command classes and
    // the TLS classes come from the archive, not from jars.
    Path log = dir.resolve("classes.log");
    Result r =
        kubectlLite(Map.of("JAVA_TOOL_OPTIONS", "-Xlog:class+load:file=" + log), "get", "--help");
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    String loaded = Files.readString(log);
    assertThat(loaded)
        .contains("picocli.CommandLine source: shared objects file")
        .contains("dev.kubelite.kubectl.cmd.GetCommand source: shared objects file");
  }

  @Test
  void anArchiveOlderThanAJarOrMadeByAnotherJavaIsMadeAgain() throws Exception {
    assertPlainVersion(version()); // an archive, fresh
    FileTime old = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
    Files.setLastModifiedTime(JSA, old); // older than every jar: a jar changed since
    assertPlainVersion(version());
    assertThat(Files.getLastModifiedTime(JSA)).isGreaterThan(old);

    Files.writeString(STAMP, "/some/other/jdk/bin/java\n");
    FileTime before = Files.getLastModifiedTime(JSA);
    assertPlainVersion(version());
    assertThat(Files.readString(STAMP).trim()).isNotEqualTo("/some/other/jdk/bin/java");
    assertThat(Files.getLastModifiedTime(JSA)).isGreaterThanOrEqualTo(before);
  }

  @Test
  void anArchiveTheJvmCannotUseOnlyCostsSpeed() throws Exception {
    assertPlainVersion(version());
    String stamp = Files.readString(STAMP);
    try {
      // Fresh by its dates and stamp, but not an archive: the JVM ignores it, silently.
      Files.delete(JSA);
      Files.writeString(JSA, "not a CDS archive");
      Files.writeString(STAMP, stamp);
      assertPlainVersion(version());
      Result help = kubectlLite(Map.of(), "get", "--help");
      assertThat(help.exitCode()).isZero();
      assertThat(help.stdout()).contains("Usage: kubectl-lite get");
      assertThat(help.stderr()).isEmpty();
    } finally {
      removeArchive();
      assertPlainVersion(version()); // leaves a good archive for what runs next
    }
  }
}

package dev.kubelite.launcher;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The cluster's one log: every component's lines, interleaved in the order they arrive, each tagged
 * with who wrote it, shown on the console and appended to {@code DATA-DIR/logs/kubelite.log} (what
 * {@code kubelite logs} prints). Log lines already carry their tag ({@code [scheduler] ...} from
 * the all-in-one process, {@code [member-1/scheduler] ...} from an HA member: see
 * common/logback.xml); any other line (a stack trace's frames, a message printed by a command) gets
 * the tag of its source, e.g. {@code [member-1] ...} or {@code [up] ...}. JSON log lines from an HA
 * member get a {@code "member"} field instead, so they stay JSON.
 */
final class ClusterLog implements AutoCloseable {
  private final PrintStream console;
  private final OutputStream file;
  private boolean fileFailed;

  private ClusterLog(PrintStream console, OutputStream file) {
    this.console = console;
    this.file = file;
  }

  /** Where the log of the cluster in {@code dataDir} is kept. */
  static Path file(Path dataDir) {
    return dataDir.resolve("logs").resolve("kubelite.log");
  }

  /** Appends to {@code dataDir}'s log file and echoes to {@code console}. */
  static ClusterLog open(Path dataDir, PrintStream console) throws IOException {
    Path f = file(dataDir);
    Files.createDirectories(f.getParent());
    return new ClusterLog(
        console, Files.newOutputStream(f, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
  }

  /** {@code line} from {@code source} (without its line end), tagged if it is not yet. */
  void line(String source, String line, boolean jsonMember) {
    write(tag(source, line, jsonMember));
  }

  static String tag(String source, String line, boolean jsonMember) {
    if (line.isEmpty() || line.startsWith("[")) {
      return line;
    }
    if (line.startsWith("{")) {
      return jsonMember ? "{\"member\":\"" + source + "\"," + line.substring(1) : line;
    }
    return "[" + source + "] " + line;
  }

  private synchronized void write(String line) {
    console.println(line);
    if (fileFailed) {
      return;
    }
    try {
      file.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      file.flush();
    } catch (IOException e) {
      // Keep the cluster running: the console still has every line.
      fileFailed = true;
      console.println(
          "[up] writing the log file failed, the console only has the lines from now on: " + e);
    }
  }

  /**
   * A stream that hands each complete line written to it to this log under {@code source}: for the
   * all-in-one process, whose own {@code System.err} (where its log lines go) is replaced by it.
   */
  PrintStream stream(String source) {
    OutputStream lines =
        new OutputStream() {
          private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();

          @Override
          public synchronized void write(int b) {
            if (b == '\n') {
              flushLine();
            } else {
              buf.write(b);
            }
          }

          @Override
          public synchronized void write(byte[] b, int off, int len) {
            for (int i = off; i < off + len; i++) {
              write(b[i]);
            }
          }

          private void flushLine() {
            String s = buf.toString(StandardCharsets.UTF_8);
            buf.reset();
            if (s.endsWith("\r")) {
              s = s.substring(0, s.length() - 1);
            }
            line(source, s, false);
          }
        };
    return new PrintStream(lines, true, StandardCharsets.UTF_8);
  }

  @Override
  public synchronized void close() {
    try {
      file.close();
    } catch (IOException e) {
      throw new UncheckedIOException("closing the log file failed", e);
    }
  }
}

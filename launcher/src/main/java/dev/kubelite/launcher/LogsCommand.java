package dev.kubelite.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kubelite logs}: prints the cluster's log — every component's lines, interleaved, each
 * tagged with its component (and member under {@code --ha}) — and with {@code -f} follows it, as
 * {@code tail -f} would.
 */
@Command(
    name = "logs",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the log of the cluster `kubelite up` runs on --data-dir: the lines of every"
          + " component (store, apiserver, scheduler, controller-manager, kubelet, up), interleaved"
          + " as they happened, each starting with its tag, e.g. [scheduler] or, under --ha,"
          + " [member-1/scheduler]. With -f it keeps printing new lines until Ctrl-C.",
      "Filter with grep: `kubelite logs -f | grep -E '\\[(member-./)?controller-manager\\]'`."
    })
public final class LogsCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      description = "The cluster's data dir, as given to `up` (default: ${DEFAULT-VALUE}).",
      defaultValue = "${sys:user.home}/.kubelite")
  Path dataDir;

  @Option(
      names = {"-f", "--follow"},
      description = "Keep printing lines as they are written.")
  boolean follow;

  @Option(
      names = "--tail",
      defaultValue = "-1",
      description = "Print only the last N lines first (default: all).")
  int tail;

  private final PrintStream out;

  LogsCommand(PrintStream out) {
    this.out = out;
  }

  public LogsCommand() {
    this(System.out);
  }

  @Override
  public Integer call() throws Exception {
    Path file = ClusterLog.file(dataDir);
    if (!follow && !Files.exists(file)) {
      System.err.println(
          "kubelite logs: no log at "
              + file
              + ": start a cluster there with `kubelite up --data-dir "
              + dataDir
              + "` (or name its --data-dir)");
      return 1;
    }
    long position = tail >= 0 && Files.exists(file) ? startOfLastLines(file, tail) : 0;
    position = copy(file, position, out);
    out.flush();
    byte[] head = head(file);
    while (follow) {
      Thread.sleep(200);
      long size = Files.exists(file) ? Files.size(file) : 0;
      byte[] now = head(file);
      if (size < position || !samePrefix(head, now)) {
        // Started afresh (`up --fresh` removed it and began a new one): read it from the start.
        position = 0;
      }
      head = now;
      if (size > position) {
        position = copy(file, position, out);
        out.flush();
      }
    }
    return 0;
  }

  private static final int HEAD = 128;

  /**
   * The first bytes of the file (its first line's time stamp and tag make a new log differ from the
   * old one even when the file system reuses the old file's inode); empty if there is none.
   */
  private static byte[] head(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(HEAD);
    } catch (IOException e) {
      return new byte[0];
    }
  }

  private static boolean samePrefix(byte[] a, byte[] b) {
    int n = Math.min(a.length, b.length);
    return java.util.Arrays.equals(a, 0, n, b, 0, n);
  }

  /** Copies {@code file} from {@code from} to its current end; returns the new position. */
  private static long copy(Path file, long from, OutputStream out) throws IOException {
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      ch.position(from);
      InputStream in = Channels.newInputStream(ch);
      long n = in.transferTo(out);
      return from + n;
    } catch (NoSuchFileException e) {
      return 0;
    }
  }

  /** The offset where the last {@code n} lines of {@code file} begin. */
  private static long startOfLastLines(Path file, int n) throws IOException {
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      long size = ch.size();
      if (n == 0) {
        return size;
      }
      long pos = size;
      int newlines = 0;
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8192);
      while (pos > 0) {
        int len = (int) Math.min(b.capacity(), pos);
        pos -= len;
        b.clear().limit(len);
        ch.position(pos);
        while (b.hasRemaining() && ch.read(b) >= 0) {
          // fill
        }
        for (int i = len - 1; i >= 0; i--) {
          // The file ends with a newline: the (n+1)th from the end precedes the last n lines.
          if (b.get(i) == '\n' && pos + i != size - 1 && ++newlines == n) {
            return pos + i + 1;
          }
        }
      }
      return 0;
    }
  }

  public static void main(String[] args) {
    int code = new CommandLine(new LogsCommand()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }
}

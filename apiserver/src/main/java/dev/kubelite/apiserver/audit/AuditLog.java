package dev.kubelite.apiserver.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.Json;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log file ({@code --audit-log-path}): one JSON {@code audit.k8s.io/v1} Event per line,
 * written by a dedicated thread so that no event loop ever waits for the disk. Events wait in a
 * bounded queue ({@code --audit-log-batch-buffer-size}, 10000 as in Kubernetes); when it is full
 * the event is dropped and counted, and the drop is logged (at most every 10 s) — Kubernetes'
 * {@code batch} mode behaviour, not its {@code blocking} mode, which would stall the event loop.
 *
 * <p>With {@code maxSizeMb > 0} the file is rotated as kube-apiserver's (lumberjack) is: renamed to
 * {@code <name>-<UTC time>.<ext>} and a new one started; {@code maxBackups} and {@code maxAgeDays}
 * (0 = no limit) bound the rotated files kept. Path {@code -} writes to standard output.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

  /** kube-apiserver's --audit-log-batch-buffer-size default. */
  public static final int DEFAULT_QUEUE_SIZE = 10_000;

  private static final DateTimeFormatter BACKUP_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss.SSS").withZone(ZoneOffset.UTC);

  private static final ObjectNode STOP = Json.object();

  private final Path path;
  private final long maxBytes;
  private final int maxBackups;
  private final int maxAgeDays;
  private final BlockingQueue<ObjectNode> queue;
  private final Thread writer;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private volatile long lastDropWarning;
  private volatile boolean closed;

  private OutputStream out;
  private long size;

  /** Opens (appending to) {@code path} and starts the writer thread. */
  public AuditLog(Path path, int maxSizeMb, int maxBackups, int maxAgeDays, int queueSize)
      throws IOException {
    if (queueSize <= 0) {
      throw new IllegalArgumentException("the audit queue size must be positive, got " + queueSize);
    }
    this.path = path;
    this.maxBytes = maxSizeMb <= 0 ? 0 : maxSizeMb * 1024L * 1024L;
    this.maxBackups = Math.max(0, maxBackups);
    this.maxAgeDays = Math.max(0, maxAgeDays);
    this.queue = new ArrayBlockingQueue<>(queueSize);
    open();
    this.writer = new Thread(this::run, "audit-log-writer");
    writer.setDaemon(true);
    writer.start();
  }

  private boolean stdout() {
    return path.toString().equals("-");
  }

  private void open() throws IOException {
    if (stdout()) {
      out = System.out;
      size = 0;
      return;
    }
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    out =
        new BufferedOutputStream(
            Files.newOutputStream(
                path,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND,
                StandardOpenOption.WRITE),
            64 * 1024);
    size = Files.size(path);
  }

  /**
   * Queues an event for writing; never blocks. Returns false (and counts the event as dropped) when
   * the queue is full or the log is closed.
   */
  public boolean offer(ObjectNode event) {
    if (closed) {
      // A request that ended while the server shut down; its event has nowhere to go.
      long n = dropped.incrementAndGet();
      log.debug("audit log {} is closed: event dropped ({} so far)", path, n);
      return false;
    }
    if (!queue.offer(event)) {
      long n = dropped.incrementAndGet();
      long now = System.nanoTime();
      if (now - lastDropWarning > TimeUnit.SECONDS.toNanos(10)) {
        lastDropWarning = now;
        log.error(
            "audit log {}: the queue of {} events is full; {} event(s) dropped so far. The"
                + " writer cannot keep up with the requests: use faster storage, a larger"
                + " --audit-log-batch-buffer-size, or a policy that audits less",
            path,
            queue.size(),
            n);
      }
      return false;
    }
    return true;
  }

  /** Events dropped because the queue was full (or the log closed). */
  public long dropped() {
    return dropped.get();
  }

  /** Events written so far. */
  public long written() {
    return written.get();
  }

  private void run() {
    boolean ioFailing = false;
    while (true) {
      ObjectNode e;
      try {
        e = queue.take();
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return;
      }
      if (e == STOP) {
        flushQuietly();
        return;
      }
      byte[] line;
      try {
        line = Json.bytes(e);
      } catch (RuntimeException ex) {
        log.error("audit log {}: cannot serialise an event; dropped", path, ex);
        dropped.incrementAndGet();
        continue;
      }
      try {
        if (out == null) {
          open();
        }
        if (maxBytes > 0 && size > 0 && size + line.length + 1 > maxBytes) {
          rotate();
        }
        out.write(line);
        out.write('\n');
        size += line.length + 1;
        written.incrementAndGet();
        if (queue.isEmpty()) {
          out.flush();
        }
        if (ioFailing) {
          log.info("audit log {}: writing again", path);
          ioFailing = false;
        }
      } catch (IOException ex) {
        dropped.incrementAndGet();
        if (!ioFailing) {
          log.error(
              "audit log {}: cannot write ({}); events are dropped until it can (check the disk"
                  + " and the file's permissions)",
              path,
              ex.toString());
          ioFailing = true;
        }
        closeQuietly();
      }
    }
  }

  /** Renames the current file to its backup name and starts a new one, then prunes backups. */
  private void rotate() throws IOException {
    out.close();
    out = null;
    String name = path.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String base = dot > 0 ? name.substring(0, dot) : name;
    String ext = dot > 0 ? name.substring(dot) : "";
    Instant at = Instant.now();
    Path backup = path.resolveSibling(base + "-" + BACKUP_TIME.format(at) + ext);
    while (Files.exists(backup)) {
      // Two rotations within a millisecond: the next free name keeps them in order.
      at = at.plusMillis(1);
      backup = path.resolveSibling(base + "-" + BACKUP_TIME.format(at) + ext);
    }
    Files.move(path, backup);
    open();
    prune(base, ext);
  }

  private void prune(String base, String ext) throws IOException {
    Path dir = path.toAbsolutePath().getParent();
    List<Path> backups = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      files
          .filter(
              p -> {
                String n = p.getFileName().toString();
                return n.startsWith(base + "-")
                    && n.endsWith(ext)
                    && n.length() == base.length() + 1 + 23 + ext.length();
              })
          .forEach(backups::add);
    }
    // Names sort by time; newest first.
    backups.sort(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed());
    Instant oldest =
        maxAgeDays > 0 ? Instant.now().minus(Duration.ofDays(maxAgeDays)) : Instant.MIN;
    for (int i = 0; i < backups.size(); i++) {
      Path b = backups.get(i);
      FileTime modified = Files.getLastModifiedTime(b);
      if ((maxBackups > 0 && i >= maxBackups) || modified.toInstant().isBefore(oldest)) {
        Files.deleteIfExists(b);
      }
    }
  }

  private void flushQuietly() {
    if (out == null) {
      return;
    }
    try {
      out.flush();
    } catch (IOException e) {
      log.error("audit log {}: cannot flush: {}", path, e.toString());
    }
  }

  private void closeQuietly() {
    if (out == null || stdout()) {
      out = null;
      return;
    }
    try {
      out.close();
    } catch (IOException e) {
      log.warn("audit log {}: closing after a failure failed too: {}", path, e.toString());
    }
    out = null;
  }

  /** Writes what is queued (waiting up to 10 s), then closes the file. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      queue.put(STOP);
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) {
      log.warn("audit log {}: the writer did not finish within 10 s; closing anyway", path);
      writer.interrupt();
    }
    if (!stdout() && out != null) {
      try {
        out.close();
      } catch (IOException e) {
        log.warn("audit log {}: cannot close: {}", path, e.toString());
      }
    }
  }
}

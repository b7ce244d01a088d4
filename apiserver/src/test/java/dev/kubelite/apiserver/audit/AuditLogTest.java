package dev.kubelite.apiserver.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.apiserver.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit file writer: JSON lines, rotation, and what happens when the disk fails. */
class AuditLogTest {
  @TempDir Path dir;

  static ObjectNode event(int i, int padding) {
    ObjectNode e = Json.object();
    e.put("kind", "Event");
    e.put("auditID", "id-" + i);
    e.put("pad", "x".repeat(padding));
    return e;
  }

  @Test
  void eventsAreJsonLinesAndCloseWritesWhatIsQueued() throws Exception {
    Path file = dir.resolve("a/audit.log");
    try (AuditLog log = new AuditLog(file, 0, 0, 0, 100)) {
      for (int i = 0; i < 50; i++) {
        assertThat(log.offer(event(i, 10))).isTrue();
      }
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(50);
    assertThat(Json.MAPPER.readTree(lines.get(49)).path("auditID").asText()).isEqualTo("id-49");
  }

  @Test
  void aFullLogIsRotatedAndOldBackupsPruned() throws Exception {
    Path file = dir.resolve("audit.log");
    try (AuditLog log = new AuditLog(file, 1, 2, 0, 10_000)) {
      // ~5 MiB of events: several rotations of a 1 MiB log.
      for (int i = 0; i < 5 * 1024; i++) {
        while (!log.offer(event(i, 1000))) {
          Thread.onSpinWait();
        }
      }
    }
    List<Path> backups;
    try (Stream<Path> files = Files.list(dir)) {
      backups =
          files.filter(p -> p.getFileName().toString().matches("audit-\\d{4}-.*\\.log")).toList();
    }
    assertThat(backups).hasSize(2);
    for (Path b : backups) {
      assertThat(Files.size(b)).isLessThanOrEqualTo(1024 * 1024).isGreaterThan(1000 * 1000);
    }
    assertThat(Files.size(file)).isLessThanOrEqualTo(1024 * 1024);
  }

  @Test
  void writeFailuresDropEventsWithoutBlocking() throws Exception {
    Path full = Path.of("/dev/full");
    if (!Files.isWritable(full)) {
      return;
    }
    try (AuditLog log = new AuditLog(full, 0, 0, 0, 10)) {
      assertThat(log.offer(event(1, 10))).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> log.dropped() >= 1);
      // Still accepting (and dropping) without blocking the caller.
      assertThat(log.offer(event(2, 10))).isTrue();
    }
  }

  @Test
  void aClosedLogDropsAndCounts() throws Exception {
    AuditLog log = new AuditLog(dir.resolve("c.log"), 0, 0, 0, 10);
    log.close();
    assertThat(log.offer(event(1, 1))).isFalse();
    assertThat(log.dropped()).isEqualTo(1);
  }
}

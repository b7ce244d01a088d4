package dev.kubelite.apiserver.audit;

import java.nio.file.Path;

/**
 * Where and what to audit: kube-apiserver's {@code --audit-log-path}, {@code --audit-policy-file}
 * (read into {@code policy}), {@code --audit-log-maxsize} (MB, 0 = never rotate), {@code
 * --audit-log-maxbackup}, {@code --audit-log-maxage} (days) and {@code
 * --audit-log-batch-buffer-size} (the writer's queue).
 */
public record AuditConfig(
    Path path, AuditPolicy policy, int maxSizeMb, int maxBackups, int maxAgeDays, int queueSize) {

  /** Every request at Metadata level to {@code path}, never rotated. */
  public static AuditConfig metadata(Path path) {
    return new AuditConfig(
        path, AuditPolicy.metadataForAll(), 0, 0, 0, AuditLog.DEFAULT_QUEUE_SIZE);
  }

  public AuditConfig withPolicy(AuditPolicy p) {
    return new AuditConfig(path, p, maxSizeMb, maxBackups, maxAgeDays, queueSize);
  }

  public AuditConfig withRotation(int sizeMb, int backups, int ageDays) {
    return new AuditConfig(path, policy, sizeMb, backups, ageDays, queueSize);
  }

  public AuditConfig withQueueSize(int size) {
    return new AuditConfig(path, policy, maxSizeMb, maxBackups, maxAgeDays, size);
  }
}

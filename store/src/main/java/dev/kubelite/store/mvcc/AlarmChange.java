package dev.kubelite.store.mvcc;

/**
 * etcd's {@code AlarmRequest} applied through Raft: {@link Action#ACTIVATE} records alarm ({@code
 * memberId}, {@code type}), {@link Action#DEACTIVATE} removes it, {@link Action#GET} lists the
 * alarms of {@code type} ({@link Alarm#NONE}: all). Alarms do not change the revision.
 */
public record AlarmChange(Action action, long memberId, int type) implements WriteCommand {
  /** etcd's AlarmRequest.AlarmAction. */
  public enum Action {
    GET,
    ACTIVATE,
    DEACTIVATE
  }
}

package dev.kubelite.store.mvcc;

/**
 * An active alarm, as etcd's {@code AlarmMember}: the member that raised it and its type, with
 * etcd's {@code AlarmType} numbers ({@link #NOSPACE}, {@link #CORRUPT}). Alarms are replicated
 * state: raised and cleared by {@link AlarmChange} entries, persisted with the MVCC data.
 */
public record Alarm(long memberId, int type) implements Comparable<Alarm> {
  /** etcd's AlarmType NONE: in a request, "any type". */
  public static final int NONE = 0;

  /** etcd's AlarmType NOSPACE: the backend quota is used up; writes that add data are refused. */
  public static final int NOSPACE = 1;

  /** etcd's AlarmType CORRUPT: writes of every kind are refused. */
  public static final int CORRUPT = 2;

  /** etcd's name for an alarm type ("NOSPACE"), or the number for a type etcd does not name. */
  public static String typeName(int type) {
    return switch (type) {
      case NONE -> "NONE";
      case NOSPACE -> "NOSPACE";
      case CORRUPT -> "CORRUPT";
      default -> Integer.toString(type);
    };
  }

  /** Ordered by member id (unsigned, as etcd prints ids), then type. */
  @Override
  public int compareTo(Alarm o) {
    int c = Long.compareUnsigned(memberId, o.memberId);
    return c != 0 ? c : Integer.compare(type, o.type);
  }
}

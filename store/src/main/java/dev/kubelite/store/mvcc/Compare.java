package dev.kubelite.store.mvcc;

/**
 * etcd's {@code Compare}. {@code number} is the operand for VERSION/CREATE/MOD/LEASE, {@code value}
 * for VALUE. With a rangeEnd the compare must hold for every key in the range.
 */
public record Compare(
    Result result, Target target, byte[] key, byte[] rangeEnd, long number, byte[] value) {

  /** Comparison. */
  public enum Result {
    EQUAL,
    GREATER,
    LESS,
    NOT_EQUAL
  }

  /** Compared field. */
  public enum Target {
    VERSION,
    CREATE,
    MOD,
    VALUE,
    LEASE
  }

  public Compare {
    key = Bytes.orEmpty(key);
    rangeEnd = Bytes.orEmpty(rangeEnd);
    value = Bytes.orEmpty(value);
  }

  /** Compares a numeric field of one key. */
  public static Compare number(byte[] key, Target target, Result result, long operand) {
    if (target == Target.VALUE) {
      throw new IllegalArgumentException("VALUE compares take a byte[] operand: use value()");
    }
    return new Compare(result, target, key, Bytes.EMPTY, operand, Bytes.EMPTY);
  }

  /** Compares the value of one key. */
  public static Compare value(byte[] key, Result result, byte[] operand) {
    return new Compare(result, Target.VALUE, key, Bytes.EMPTY, 0, operand);
  }

  public Compare withRangeEnd(byte[] end) {
    return new Compare(result, target, key, end, number, value);
  }
}

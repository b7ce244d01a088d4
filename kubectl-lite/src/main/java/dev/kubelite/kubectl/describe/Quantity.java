package dev.kubelite.kubectl.describe;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * A Kubernetes resource quantity ({@code 250m}, {@code 64Mi}, {@code 2}, {@code 1e3}), enough of it
 * for describe's sums and percentages: parsed exactly, printed back in the canonical form the API
 * uses (binary suffixes when the inputs used them, else decimal ones).
 */
public record Quantity(BigDecimal value, boolean binary) {
  public static final Quantity ZERO = new Quantity(BigDecimal.ZERO, false);

  private static final String[] BINARY = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  private static final String[] DECIMAL = {"k", "M", "G", "T", "P", "E"};

  /** Parses a quantity; an unreadable one counts as zero (describe only sums them). */
  public static Quantity parse(String s) {
    if (s == null || s.isBlank()) {
      return ZERO;
    }
    s = s.trim();
    try {
      for (int i = BINARY.length - 1; i >= 0; i--) {
        if (s.endsWith(BINARY[i])) {
          BigDecimal n = new BigDecimal(s.substring(0, s.length() - 2));
          return new Quantity(n.multiply(BigDecimal.valueOf(1024).pow(i + 1)), true);
        }
      }
      for (int i = DECIMAL.length - 1; i >= 0; i--) {
        if (s.endsWith(DECIMAL[i])) {
          BigDecimal n = new BigDecimal(s.substring(0, s.length() - 1));
          return new Quantity(n.scaleByPowerOfTen(3 * (i + 1)), false);
        }
      }
      if (s.endsWith("m")) {
        return new Quantity(new BigDecimal(s.substring(0, s.length() - 1)).movePointLeft(3), false);
      }
      if (s.endsWith("u")) {
        return new Quantity(new BigDecimal(s.substring(0, s.length() - 1)).movePointLeft(6), false);
      }
      if (s.endsWith("n")) {
        return new Quantity(new BigDecimal(s.substring(0, s.length() - 1)).movePointLeft(9), false);
      }
      return new Quantity(new BigDecimal(s), false);
    } catch (NumberFormatException e) {
      return ZERO;
    }
  }

  public Quantity plus(Quantity o) {
    boolean b = value.signum() == 0 ? o.binary : binary;
    return new Quantity(value.add(o.value), b);
  }

  public boolean isZero() {
    return value.signum() == 0;
  }

  /** The value in thousandths, rounded up as Kubernetes' MilliValue does. */
  public long milli() {
    return value.movePointRight(3).setScale(0, RoundingMode.CEILING).longValue();
  }

  /** Percent of {@code total}, truncated, as kubectl's describe node computes it. */
  public long percentOf(Quantity total) {
    if (total.milli() == 0) {
      return 0;
    }
    return (long) ((double) milli() / (double) total.milli() * 100);
  }

  @Override
  public String toString() {
    BigDecimal v = value.stripTrailingZeros();
    if (v.signum() == 0) {
      return "0";
    }
    boolean integer = v.scale() <= 0;
    if (integer && binary) {
      BigInteger n = v.toBigIntegerExact();
      BigInteger k = BigInteger.valueOf(1024);
      int i = -1;
      while (i + 1 < BINARY.length && n.mod(k).signum() == 0) {
        n = n.divide(k);
        i++;
      }
      return n + (i < 0 ? "" : BINARY[i]);
    }
    if (integer) {
      BigInteger n = v.toBigIntegerExact();
      BigInteger k = BigInteger.valueOf(1000);
      int i = -1;
      while (i + 1 < DECIMAL.length && n.mod(k).signum() == 0) {
        n = n.divide(k);
        i++;
      }
      return n + (i < 0 ? "" : DECIMAL[i]);
    }
    BigDecimal m = v.movePointRight(3);
    if (m.stripTrailingZeros().scale() <= 0) {
      return m.toBigInteger() + "m";
    }
    BigDecimal u = v.movePointRight(6);
    if (u.stripTrailingZeros().scale() <= 0) {
      return u.toBigInteger() + "u";
    }
    return v.movePointRight(9).setScale(0, RoundingMode.CEILING).toBigInteger() + "n";
  }
}

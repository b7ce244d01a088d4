package dev.kubelite.scheduler.framework;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kubernetes resource quantities ({@code 500m}, {@code 2}, {@code 1.5}, {@code 128Mi}, {@code 1G},
 * {@code 1e3}): a signed decimal number and an optional suffix — binary ({@code Ki Mi Gi Ti Pi
 * Ei}), decimal ({@code n u m k M G T P E}) or a decimal exponent ({@code e3}, {@code E-2}).
 * Conversions round up, as Kubernetes' {@code Value()} and {@code MilliValue()} do.
 */
public final class Quantity {
  private Quantity() {}

  private static final Pattern FORM =
      Pattern.compile("([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))([a-zA-Z]*|[eE][+-]?[0-9]+)");

  /** The exact value of a quantity; IllegalArgumentException (naming it) when malformed. */
  public static BigDecimal parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("quantity is missing");
    }
    Matcher m = FORM.matcher(s.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "quantity \""
              + s
              + "\" does not match the regular expression ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");
    }
    BigDecimal number = new BigDecimal(m.group(1));
    String suffix = m.group(2);
    BigDecimal factor =
        switch (suffix) {
          case "" -> BigDecimal.ONE;
          case "n" -> BigDecimal.ONE.scaleByPowerOfTen(-9);
          case "u" -> BigDecimal.ONE.scaleByPowerOfTen(-6);
          case "m" -> BigDecimal.ONE.scaleByPowerOfTen(-3);
          case "k" -> BigDecimal.ONE.scaleByPowerOfTen(3);
          case "M" -> BigDecimal.ONE.scaleByPowerOfTen(6);
          case "G" -> BigDecimal.ONE.scaleByPowerOfTen(9);
          case "T" -> BigDecimal.ONE.scaleByPowerOfTen(12);
          case "P" -> BigDecimal.ONE.scaleByPowerOfTen(15);
          case "E" -> BigDecimal.ONE.scaleByPowerOfTen(18);
          case "Ki" -> BigDecimal.valueOf(1L << 10);
          case "Mi" -> BigDecimal.valueOf(1L << 20);
          case "Gi" -> BigDecimal.valueOf(1L << 30);
          case "Ti" -> BigDecimal.valueOf(1L << 40);
          case "Pi" -> BigDecimal.valueOf(1L << 50);
          case "Ei" -> BigDecimal.valueOf(1L << 60);
          default -> {
            if (suffix.matches("[eE][+-]?[0-9]{1,3}")) {
              yield BigDecimal.ONE.scaleByPowerOfTen(Integer.parseInt(suffix.substring(1)));
            }
            throw new IllegalArgumentException(
                "quantity \"" + s + "\" has an unknown suffix \"" + suffix + "\"");
          }
        };
    return number.multiply(factor);
  }

  /** The value rounded up to an integer (memory in bytes, pod counts). */
  public static long value(String s) {
    return toLong(parse(s).setScale(0, RoundingMode.CEILING), s);
  }

  /** The value in thousandths rounded up (CPU in millicores). */
  public static long milliValue(String s) {
    return toLong(parse(s).scaleByPowerOfTen(3).setScale(0, RoundingMode.CEILING), s);
  }

  private static long toLong(BigDecimal v, String s) {
    try {
      return v.longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("quantity \"" + s + "\" is too large", e);
    }
  }
}

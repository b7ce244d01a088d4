package dev.kubelite.apiserver.http;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;

/**
 * Durations as Go writes them ({@code 30s}, {@code 1m30s}, {@code 1.5h}, {@code 250ms}), which is
 * how clients send the {@code timeout} query parameter.
 */
public final class GoDuration {
  private GoDuration() {}

  private static final Map<String, Long> NANOS =
      Map.of(
          "ns", 1L,
          "us", 1_000L,
          "µs", 1_000L,
          "ms", 1_000_000L,
          "s", 1_000_000_000L,
          "m", 60_000_000_000L,
          "h", 3_600_000_000_000L);

  /** The duration, or null if {@code s} is not a Go duration. */
  public static Duration parse(String s) {
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    int i = 0;
    boolean negative = false;
    if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
      negative = s.charAt(i) == '-';
      i++;
    }
    if (i >= s.length()) {
      return null;
    }
    BigDecimal total = BigDecimal.ZERO;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      String number = s.substring(start, i);
      int unitStart = i;
      while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
        i++;
      }
      Long unit = NANOS.get(s.substring(unitStart, i));
      if (number.isEmpty() || number.equals(".") || unit == null) {
        return null;
      }
      try {
        total = total.add(new BigDecimal(number).multiply(BigDecimal.valueOf(unit)));
      } catch (NumberFormatException e) {
        return null;
      }
    }
    if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      return null;
    }
    long nanos = total.longValue();
    return Duration.ofNanos(negative ? -nanos : nanos);
  }
}

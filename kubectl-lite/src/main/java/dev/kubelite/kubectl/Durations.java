package dev.kubelite.kubectl;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Go's duration syntax as kubectl's flags take it: {@code 30s}, {@code 1m30s}, {@code 500ms},
 * {@code 0}.
 */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private Durations() {}

  /**
   * Parses {@code text} for flag {@code flag}; a {@link CliException} naming the flag when
   * unreadable.
   */
  public static Duration parse(String flag, String text) {
    String t = text.trim();
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = PART.matcher(t);
    int at = 0;
    double nanos = 0;
    while (at < t.length() && m.find(at) && m.start() == at) {
      double n = Double.parseDouble(m.group(1));
      nanos +=
          n
              * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
              };
      at = m.end();
    }
    if (at != t.length() || t.isEmpty()) {
      throw new CliException(
          "invalid argument \""
              + text
              + "\" for \""
              + flag
              + "\" flag: time: invalid duration \""
              + text
              + "\"");
    }
    return Duration.ofNanos((long) nanos);
  }
}

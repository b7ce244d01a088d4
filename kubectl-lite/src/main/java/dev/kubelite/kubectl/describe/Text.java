package dev.kubelite.kubectl.describe;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The small formatting rules kubectl's human-readable output follows (ages, times, labels). */
public final class Text {
  private static final DateTimeFormatter RFC1123Z =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.US);

  private Text() {}

  /**
   * An RFC 3339 timestamp as kubectl prints it in describe: {@code Sun, 22 Nov 2026 00:22:27
   * +0000}.
   */
  public static String time(String rfc3339) {
    Instant t = instant(rfc3339);
    return t == null ? "<unset>" : RFC1123Z.format(t.atZone(ZoneId.systemDefault()));
  }

  /** The instant of an RFC 3339 timestamp, or null when absent or unreadable. */
  public static Instant instant(String rfc3339) {
    if (rfc3339 == null || rfc3339.isEmpty() || rfc3339.equals("null")) {
      return null;
    }
    try {
      return Instant.parse(rfc3339);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * Age since an RFC 3339 timestamp, as kubectl's tables and describe print it; {@code <unknown>}
   * if none.
   */
  public static String since(String rfc3339) {
    Instant t = instant(rfc3339);
    if (t == null) {
      return "<unknown>";
    }
    return human(Duration.between(t, Instant.now()));
  }

  /**
   * Kubernetes' HumanDuration: {@code 5s}, {@code 3m20s}, {@code 15m}, {@code 2h5m}, {@code 3d}.
   */
  public static String human(Duration d) {
    long seconds = d.getSeconds();
    if (seconds < -1) {
      return "<invalid>";
    }
    if (seconds < 0) {
      return "0s";
    }
    if (seconds < 120) {
      return seconds + "s";
    }
    long minutes = seconds / 60;
    if (minutes < 10) {
      long s = seconds % 60;
      return s == 0 ? minutes + "m" : minutes + "m" + s + "s";
    }
    if (minutes < 180) {
      return minutes + "m";
    }
    long hours = minutes / 60;
    if (hours < 8) {
      long m = minutes % 60;
      return m == 0 ? hours + "h" : hours + "h" + m + "m";
    }
    if (hours < 48) {
      return hours + "h";
    }
    if (hours < 24 * 8) {
      long h = hours % 24;
      return h == 0 ? hours / 24 + "d" : hours / 24 + "d" + h + "h";
    }
    if (hours < 24 * 365 * 2) {
      return hours / 24 + "d";
    }
    if (hours < 24 * 365 * 8) {
      long dy = (hours / 24) % 365;
      return dy == 0 ? hours / 24 / 365 + "y" : hours / 24 / 365 + "y" + dy + "d";
    }
    return hours / 24 / 365 + "y";
  }

  /** A JSON object of strings as a sorted map (labels, annotations, selectors). */
  public static Map<String, String> map(JsonNode n) {
    Map<String, String> m = new TreeMap<>();
    if (n != null && n.isObject()) {
      n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
    }
    return m;
  }

  /** {@code a=1,b=2}, or {@code <none>}. */
  public static String selector(JsonNode n) {
    Map<String, String> m = map(n);
    if (m.isEmpty()) {
      return "<none>";
    }
    List<String> parts = new ArrayList<>();
    m.forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(",", parts);
  }

  /**
   * A label selector ({@code matchLabels}, {@code matchExpressions}) in kubectl's notation: the
   * requirements sorted by key, the values of a set requirement sorted.
   */
  public static String labelSelector(JsonNode sel) {
    List<String[]> parts = new ArrayList<>();
    map(sel.path("matchLabels")).forEach((k, v) -> parts.add(new String[] {k, k + "=" + v}));
    for (JsonNode e : sel.path("matchExpressions")) {
      String key = e.path("key").asText();
      List<String> values = new ArrayList<>();
      e.path("values").forEach(v -> values.add(v.asText()));
      values.sort(null);
      String text =
          switch (e.path("operator").asText()) {
            case "In" -> key + " in (" + String.join(",", values) + ")";
            case "NotIn" -> key + " notin (" + String.join(",", values) + ")";
            case "Exists" -> key;
            case "DoesNotExist" -> "!" + key;
            default -> key + " " + e.path("operator").asText() + " " + values;
          };
      parts.add(new String[] {key, text});
    }
    if (parts.isEmpty()) {
      return "<none>";
    }
    parts.sort(java.util.Comparator.comparing(p -> p[0]));
    List<String> out = new ArrayList<>();
    parts.forEach(p -> out.add(p[1]));
    return String.join(",", out);
  }

  /** A text field, or {@code fallback} when missing, null or empty. */
  public static String str(JsonNode n, String fallback) {
    if (n == null || n.isMissingNode() || n.isNull()) {
      return fallback;
    }
    String s = n.isValueNode() ? n.asText() : n.toString();
    return s.isEmpty() ? fallback : s;
  }
}

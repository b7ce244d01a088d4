package dev.kubelite.kubectl.describe;

import java.util.Map;

/**
 * kubectl's describe writer: lines at an indentation level (two spaces per level), cells separated
 * by tabs, aligned by a {@link TabWriter} as kubectl's are.
 */
final class Lines {
  private final TabWriter tw = new TabWriter();

  /** One line: {@code cells} joined by tabs, at {@code level}. */
  Lines line(int level, String... cells) {
    tw.write("  ".repeat(level) + String.join("\t", cells) + "\n");
    return this;
  }

  /** Raw text (may hold tabs and newlines), at level 0. */
  Lines raw(String text) {
    tw.write(text);
    return this;
  }

  /** Ends the current alignment block (kubectl flushes before a new table). */
  Lines flush() {
    tw.flush();
    return this;
  }

  /** {@code Labels: a=1}, further ones on their own lines, or {@code <none>}. */
  Lines labels(String indent, String title, Map<String, String> labels) {
    if (labels.isEmpty()) {
      return raw(indent + title + ":\t<none>\n");
    }
    boolean first = true;
    for (Map.Entry<String, String> e : labels.entrySet()) {
      raw((first ? indent + title + ":" : indent) + "\t" + e.getKey() + "=" + e.getValue() + "\n");
      first = false;
    }
    return this;
  }

  /**
   * {@code Annotations: k: v}, without kubectl's last-applied-configuration; long or multi-line
   * values under their key, each line cut at 140 characters.
   */
  Lines annotations(String indent, String title, Map<String, String> annotations) {
    Map<String, String> shown = new java.util.TreeMap<>(annotations);
    shown.remove("kubectl.kubernetes.io/last-applied-configuration");
    if (shown.isEmpty()) {
      return raw(indent + title + ":\t<none>\n");
    }
    boolean first = true;
    for (Map.Entry<String, String> e : shown.entrySet()) {
      raw(first ? indent + title + ":\t" : indent + "\t");
      first = false;
      String value =
          e.getValue().endsWith("\n")
              ? e.getValue().substring(0, e.getValue().length() - 1)
              : e.getValue();
      if (value.length() + e.getKey().length() + 2 > 140 || value.contains("\n")) {
        raw(e.getKey() + ":\n");
        for (String s : value.split("\n", -1)) {
          raw("\t  " + (s.length() > 138 ? s.substring(0, 138) + "..." : s) + "\n");
        }
      } else {
        raw(e.getKey() + ": " + value + "\n");
      }
    }
    return this;
  }

  @Override
  public String toString() {
    return tw.toString();
  }
}

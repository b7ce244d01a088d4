package dev.kubelite.kubectl.output;

import dev.kubelite.kubectl.CliException;
import java.util.Locale;

/** The {@code -o} values: a table (the default, or wide), a serialization, or names only. */
public enum OutputFormat {
  TABLE,
  WIDE,
  YAML,
  JSON,
  NAME;

  /** Parses {@code -o}; null or empty means the default table. */
  public static OutputFormat parse(String flag) {
    if (flag == null || flag.isEmpty()) {
      return TABLE;
    }
    try {
      OutputFormat f = valueOf(flag.toUpperCase(Locale.ROOT));
      if (f != TABLE) {
        return f;
      }
    } catch (IllegalArgumentException unknown) {
      // Falls through to the message below, which lists what is allowed.
    }
    throw new CliException(
        "unable to match a printer suitable for the output format \""
            + flag
            + "\", allowed formats are: json,name,wide,yaml");
  }

  public boolean isTable() {
    return this == TABLE || this == WIDE;
  }
}

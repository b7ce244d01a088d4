package dev.kubelite.kubectl.describe;

import java.util.ArrayList;
import java.util.List;

/**
 * Aligns tab-separated cells into columns the way Go's {@code text/tabwriter} does with kubectl's
 * settings (minimum width 0, padding with spaces), so that describe output lines up exactly like
 * kubectl's: a column is a run of consecutive lines that all have a cell in it, and the text after
 * a line's last tab is not part of any column (a line without a tab ends every column above it).
 */
public final class TabWriter {
  private final int padding;

  private final StringBuilder out = new StringBuilder();
  private final List<List<String>> lines = new ArrayList<>();
  private final List<Integer> widths = new ArrayList<>();
  private StringBuilder pending = new StringBuilder();

  /** kubectl's describe writer: cells padded by two spaces. */
  public TabWriter() {
    this(2);
  }

  /** Cells padded by {@code padding} spaces (kubectl's tables use three). */
  public TabWriter(int padding) {
    this.padding = padding;
  }

  /** Adds text; lines end with {@code \n}, cells with {@code \t}. */
  public TabWriter write(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      pending.append(c);
      if (c == '\n') {
        String line = pending.substring(0, pending.length() - 1);
        pending = new StringBuilder();
        lines.add(List.of(line.split("\t", -1)));
      }
    }
    return this;
  }

  /** Formats what was written so far (an unfinished last line is kept for later). */
  public TabWriter flush() {
    format(0, lines.size());
    lines.clear();
    return this;
  }

  /** Everything flushed so far, and the rest flushed now. */
  @Override
  public String toString() {
    flush();
    if (pending.length() > 0) {
      out.append(pending);
      pending = new StringBuilder();
    }
    return out.toString();
  }

  private void format(int line0, int line1) {
    int column = widths.size();
    for (int i = line0; i < line1; i++) {
      if (column >= lines.get(i).size() - 1) {
        continue;
      }
      // A column block starts here: the lines before it are printed with the widths known.
      writeLines(line0, i);
      line0 = i;
      int width = 0;
      for (; i < line1; i++) {
        List<String> cells = lines.get(i);
        if (column >= cells.size() - 1) {
          break;
        }
        width = Math.max(width, cells.get(column).length() + padding);
      }
      widths.add(width);
      format(line0, i);
      widths.remove(widths.size() - 1);
      line0 = i;
      i--;
    }
    writeLines(line0, line1);
  }

  private void writeLines(int line0, int line1) {
    for (int i = line0; i < line1; i++) {
      List<String> cells = lines.get(i);
      for (int j = 0; j < cells.size(); j++) {
        String c = cells.get(j);
        out.append(c);
        if (j < widths.size()) {
          out.append(" ".repeat(Math.max(0, widths.get(j) - c.length())));
        }
      }
      out.append('\n');
    }
  }
}

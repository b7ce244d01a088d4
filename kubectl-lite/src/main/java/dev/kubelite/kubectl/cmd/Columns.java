package dev.kubelite.kubectl.cmd;

import java.io.PrintWriter;
import java.util.List;

/** kubectl's table layout for documents that are not server-side Tables. */
final class Columns {
  private Columns() {}

  /**
   * Rows (the first is the header) with columns padded to their widest cell, three spaces apart.
   */
  static void print(PrintWriter out, List<List<String>> rows) {
    int[] widths = new int[rows.get(0).size()];
    for (List<String> r : rows) {
      for (int i = 0; i < r.size(); i++) {
        widths[i] = Math.max(widths[i], r.get(i).length());
      }
    }
    for (List<String> r : rows) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        b.append(r.get(i));
        if (i < r.size() - 1) {
          b.append(" ".repeat(widths[i] - r.get(i).length() + 3));
        }
      }
      out.println(b.toString().stripTrailing());
    }
  }
}

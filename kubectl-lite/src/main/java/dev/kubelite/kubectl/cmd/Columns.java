package dev.kubelite.kubectl.cmd;

import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.output.OutputFormat;
import java.io.PrintWriter;
import java.util.List;

/** Output of documents that are not Kubernetes objects (store and encryption answers). */
final class Columns {
  private Columns() {}

  /**
   * The {@code -o} format for such a document: only json and yaml (there is no table or name), or
   * null for the command's own columns.
   */
  static OutputFormat document(String output) {
    if (output == null || output.isEmpty()) {
      return null;
    }
    OutputFormat f = OutputFormat.parse(output);
    if (f != OutputFormat.JSON && f != OutputFormat.YAML) {
      throw new CliException(
          "unable to match a printer suitable for the output format \""
              + output
              + "\", allowed formats are: json,yaml");
    }
    return f;
  }

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

package dev.kubelite.kubectl.output;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints the API server's server-side Tables ({@code meta.k8s.io/v1 Table}) as kubectl does:
 * upper-case headers, columns of priority 0 (all of them with {@code -o wide}), a NAMESPACE column
 * first with {@code -A}, and a {@code kind/} prefix on names when several types are listed. Columns
 * are separated by three spaces; rows printed later (a watch) keep the first widths where they fit.
 */
public final class TablePrinter {
  private final boolean wide;
  private final boolean withNamespace;
  private final String namePrefix;
  private final List<Integer> shown = new ArrayList<>();
  private List<String> header;
  private int[] widths;

  /**
   * @param namePrefix put before each name ({@code pod/}), or empty
   */
  public TablePrinter(boolean wide, boolean withNamespace, String namePrefix) {
    this.wide = wide;
    this.withNamespace = withNamespace;
    this.namePrefix = namePrefix;
  }

  /** Takes the columns of a Table (the first one of a list, or of a watch). */
  public void columns(JsonNode table) {
    JsonNode defs = table.path("columnDefinitions");
    if (!defs.isArray() || defs.isEmpty() || header != null) {
      return;
    }
    header = new ArrayList<>();
    if (withNamespace) {
      header.add("NAMESPACE");
    }
    for (int i = 0; i < defs.size(); i++) {
      JsonNode d = defs.get(i);
      if (wide || d.path("priority").asInt(0) == 0) {
        shown.add(i);
        header.add(d.path("name").asText().toUpperCase(Locale.ROOT));
      }
    }
  }

  /** The rows of a Table, each as the cells this printer shows. */
  public List<List<String>> rows(JsonNode table) {
    List<List<String>> out = new ArrayList<>();
    for (JsonNode row : table.path("rows")) {
      List<String> cells = new ArrayList<>();
      if (withNamespace) {
        cells.add(row.path("object").path("metadata").path("namespace").asText(""));
      }
      JsonNode c = row.path("cells");
      for (int i : shown) {
        String v = text(c.path(i));
        if (i == 0 && !namePrefix.isEmpty()) {
          v = namePrefix + v;
        }
        cells.add(v);
      }
      out.add(cells);
    }
    return out;
  }

  /** Prints the header and these rows, aligned. */
  public void printWithHeader(PrintWriter out, List<List<String>> rows) {
    if (header == null) {
      return;
    }
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    widths = new int[header.size()];
    for (List<String> r : all) {
      for (int i = 0; i < r.size() && i < widths.length; i++) {
        widths[i] = Math.max(widths[i], r.get(i).length());
      }
    }
    for (List<String> r : all) {
      printRow(out, r);
    }
  }

  /** Prints rows that arrive later (a watch), aligned to the widths printed so far. */
  public void printMore(PrintWriter out, List<List<String>> rows) {
    if (widths == null) {
      printWithHeader(out, rows);
      return;
    }
    for (List<String> r : rows) {
      printRow(out, r);
    }
  }

  private void printRow(PrintWriter out, List<String> cells) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String v = cells.get(i);
      b.append(v);
      if (i < cells.size() - 1) {
        int w = i < widths.length ? widths[i] : v.length();
        b.append(" ".repeat(Math.max(0, w - v.length()) + 3));
      }
    }
    out.println(b.toString().stripTrailing());
  }

  private static String text(JsonNode cell) {
    if (cell.isMissingNode() || cell.isNull()) {
      return "<none>";
    }
    return cell.isTextual() ? cell.asText() : cell.toString();
  }
}

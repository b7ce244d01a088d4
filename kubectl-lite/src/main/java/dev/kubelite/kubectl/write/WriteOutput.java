package dev.kubelite.kubectl.write;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.ApiException;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.output.OutputFormat;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * What a changing command prints for each object, as kubectl: {@code deployment.apps/web created}
 * (with {@code (dry run)} or {@code (server dry run)}), or with {@code -o name} the name alone, or
 * with {@code -o yaml|json} the objects the server answered (several as a {@code List}, printed
 * once all are done).
 */
public final class WriteOutput {
  private final PrintWriter out;
  private final OutputFormat format;
  private final DryRun dryRun;
  private final List<ObjectNode> objects = new ArrayList<>();

  public WriteOutput(PrintWriter out, String outputFlag, DryRun dryRun) {
    this.out = out;
    this.format = parse(outputFlag);
    this.dryRun = dryRun;
  }

  /** {@code -o}: empty (the default message), yaml, json or name. */
  public static OutputFormat parse(String flag) {
    if (flag == null || flag.isEmpty()) {
      return null;
    }
    OutputFormat f;
    try {
      f = OutputFormat.parse(flag);
    } catch (CliException e) {
      f = null;
    }
    if (f == null || f.isTable()) {
      throw new CliException(
          "unable to match a printer suitable for the output format \""
              + flag
              + "\", allowed formats are: json,name,yaml");
    }
    return f;
  }

  /** Whether the objects themselves are printed (so the command needs them). */
  public boolean printsObjects() {
    return format == OutputFormat.YAML || format == OutputFormat.JSON;
  }

  /** Reports that {@code name} ({@code deployment.apps/web}) was {@code operation}. */
  public void done(String name, String operation, ObjectNode object) {
    if (format == null) {
      out.println(name + " " + operation + dryRun.suffix());
    } else if (format == OutputFormat.NAME) {
      out.println(name);
    } else if (object != null) {
      objects.add(object);
    }
    out.flush();
  }

  /** Prints what {@code -o yaml|json} collected. */
  public void finish() {
    if (!objects.isEmpty()) {
      ObjectPrinter.print(out, format, objects);
      out.flush();
    }
  }

  /**
   * kubectl's message for an Invalid object, built from the Status details: {@code The Pod "x" is
   * invalid: spec.containers: Required value}, several causes one per line after {@code * }.
   */
  private static String invalid(JsonNode details, String message) {
    String kind = details.path("kind").asText("");
    String name = details.path("name").asText("");
    String head =
        kind.isEmpty() && name.isEmpty()
            ? "The request is invalid"
            : "The " + kind + " \"" + name + "\" is invalid";
    List<String> causes = new ArrayList<>();
    for (JsonNode c : details.path("causes")) {
      String field = c.path("field").asText("");
      String m = c.path("message").asText("");
      causes.add(field.isEmpty() ? m : field + ": " + m);
    }
    if (causes.isEmpty()) {
      return head + ": " + message;
    }
    if (causes.size() == 1) {
      return head + ": " + causes.get(0);
    }
    return head + ": \n* " + String.join("\n* ", causes);
  }

  /**
   * kubectl's message for a refusal while working on a file: {@code Error from server
   * (AlreadyExists): error when creating "pod.yaml": pods "hello" already exists}.
   */
  public static String serverError(ApiException e, String when) {
    String message = e.status().path("message").asText("");
    if (e.reason().equals("Invalid")) {
      return invalid(e.status().path("details"), message);
    }
    String prefix =
        e.reason().isEmpty() ? "Error from server: " : "Error from server (" + e.reason() + "): ";
    return prefix + (when == null ? "" : when + ": ") + message;
  }
}

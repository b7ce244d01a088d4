package dev.kubelite.kubectl.input;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.kubelite.kubectl.CliException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads the objects that {@code -f} names, for every command that takes manifests ({@code apply},
 * {@code create}, {@code delete}): a file, a directory (its {@code *.yaml}, {@code *.yml} and
 * {@code *.json} files, not recursing, in name order) or {@code -} for standard input. A file holds
 * YAML documents separated by {@code ---} lines, or one or more JSON objects; a {@code List} (any
 * kind ending in {@code List} with {@code items}) stands for its items. Everything is read and
 * checked before any command sends anything: a bad document is a {@link CliException} naming the
 * file, the document number and the line.
 */
public final class ManifestReader {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** The name kubectl gives standard input in its messages. */
  public static final String STDIN = "STDIN";

  private final InputStream stdin;

  public ManifestReader(InputStream stdin) {
    this.stdin = stdin;
  }

  /** Every object in {@code filenames}, in the order given (a directory's files by name). */
  public List<Manifest> read(List<String> filenames) {
    List<Manifest> out = new ArrayList<>();
    boolean stdinRead = false;
    for (String f : filenames) {
      if (f.equals("-")) {
        if (stdinRead) {
          throw new CliException("standard input (-f -) can be read only once");
        }
        stdinRead = true;
        String text;
        try {
          text = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new CliException("cannot read standard input: " + e.getMessage());
        }
        out.addAll(parse(STDIN, text));
        continue;
      }
      if (f.startsWith("http://") || f.startsWith("https://")) {
        throw new CliException(
            "reading manifests from a URL is not supported (" + f + "): download it first");
      }
      Path p = Path.of(f);
      if (Files.isDirectory(p)) {
        for (Path file : filesIn(p)) {
          out.addAll(parse(file.toString(), readFile(file)));
        }
      } else if (Files.exists(p)) {
        out.addAll(parse(f, readFile(p)));
      } else {
        throw new CliException("the path \"" + f + "\" does not exist");
      }
    }
    return out;
  }

  private static List<Path> filesIn(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile)
          .filter(
              p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json");
              })
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new CliException("cannot list the directory " + dir + ": " + e.getMessage());
    }
  }

  private static String readFile(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot read " + p + ": " + e.getMessage());
    }
  }

  /** The objects in one file's text; {@code source} names it in messages. */
  public static List<Manifest> parse(String source, String text) {
    List<Manifest> out = new ArrayList<>();
    String trimmed = text.stripLeading();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      parseJson(source, text, out);
    } else {
      parseYaml(source, text, out);
    }
    return out;
  }

  private static void parseJson(String source, String text, List<Manifest> out) {
    int document = 0;
    try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(text)) {
      while (it.hasNextValue()) {
        JsonNode n = it.nextValue();
        document++;
        add(source, document, n, out);
      }
    } catch (JsonProcessingException e) {
      throw parseError(source, document + 1, 0, e);
    } catch (IOException e) {
      throw new CliException("error parsing " + source + ": " + e.getMessage());
    } catch (RuntimeException e) {
      if (e.getCause() instanceof JsonProcessingException jpe) {
        throw parseError(source, document + 1, 0, jpe);
      }
      throw e;
    }
  }

  /**
   * YAML documents are split on separator lines ({@code ---}, optionally followed by a comment) as
   * Kubernetes' YAML reader does, so that a message can name the document; documents holding only
   * comments or blanks are skipped and not counted.
   */
  private static void parseYaml(String source, String text, List<Manifest> out) {
    String[] lines = text.split("\r?\n", -1);
    StringBuilder chunk = new StringBuilder();
    int chunkStart = 0;
    int document = 0;
    for (int i = 0; i <= lines.length; i++) {
      boolean end = i == lines.length;
      if (end || isSeparator(lines[i])) {
        if (hasContent(chunk)) {
          document++;
          JsonNode n;
          try {
            n = YAML.readTree(chunk.toString());
          } catch (JsonProcessingException e) {
            throw parseError(source, document, chunkStart, e);
          }
          add(source, document, n, out);
        }
        chunk.setLength(0);
        chunkStart = i + 1;
        continue;
      }
      chunk.append(lines[i]).append('\n');
    }
  }

  private static boolean isSeparator(String line) {
    if (!line.startsWith("---")) {
      return false;
    }
    String rest = line.substring(3).strip();
    return rest.isEmpty() || rest.startsWith("#");
  }

  private static boolean hasContent(CharSequence chunk) {
    for (String line : chunk.toString().split("\n")) {
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("#") && !t.equals("...")) {
        return true;
      }
    }
    return false;
  }

  private static CliException parseError(
      String source, int document, int lineOffset, JsonProcessingException e) {
    int line = line(e);
    String where = "document " + document;
    if (line > 0) {
      where += ", line " + (lineOffset + line);
    }
    return new CliException("error parsing " + source + " (" + where + "): " + problem(e));
  }

  /** The 1-based line a JSON or YAML parse error points at, or -1. */
  public static int line(JsonProcessingException e) {
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c instanceof MarkedYAMLException y && y.getProblemMark() != null) {
        return y.getProblemMark().getLine() + 1;
      }
    }
    JsonLocation at = e.getLocation();
    return at != null ? at.getLineNr() : -1;
  }

  /** A parse error's problem in one line, without the excerpt of the input parsers append. */
  public static String problem(JsonProcessingException e) {
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c instanceof MarkedYAMLException y) {
        return y.getContext() != null ? y.getContext() + ": " + y.getProblem() : y.getProblem();
      }
    }
    String m = e.getOriginalMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    String first = m.strip().lines().findFirst().orElse(m).strip();
    int source = first.indexOf(" (start marker at [Source");
    return source > 0 ? first.substring(0, source) : first;
  }

  private static void add(String source, int document, JsonNode n, List<Manifest> out) {
    if (n == null || n.isMissingNode() || n.isNull()) {
      return;
    }
    if (!(n instanceof ObjectNode o)) {
      throw new CliException(
          "error parsing "
              + source
              + " (document "
              + document
              + "): expected an object (a mapping with apiVersion and kind), got "
              + describe(n));
    }
    Manifest m = check(new Manifest(o, source, document, 0));
    if (m.kind().endsWith("List") && o.has("items")) {
      if (!o.path("items").isArray()) {
        throw new CliException("error validating " + m.location() + ": items must be a list");
      }
      int item = 0;
      for (JsonNode i : o.path("items")) {
        item++;
        if (!(i instanceof ObjectNode io)) {
          throw new CliException(
              "error validating "
                  + new Manifest(o, source, document, item).location()
                  + ": a list item must be an object, got "
                  + describe(i));
        }
        Manifest im = check(new Manifest(io, source, document, item));
        if (im.kind().endsWith("List") && io.has("items")) {
          throw new CliException(
              "error validating " + im.location() + ": a list inside a list is not supported");
        }
        out.add(im);
      }
      return;
    }
    out.add(m);
  }

  private static Manifest check(Manifest m) {
    if (!m.object().path("apiVersion").isTextual() || m.apiVersion().isEmpty()) {
      throw new CliException("error validating " + m.location() + ": apiVersion not set");
    }
    if (!m.object().path("kind").isTextual() || m.kind().isEmpty()) {
      throw new CliException("error validating " + m.location() + ": kind not set");
    }
    JsonNode meta = m.object().get("metadata");
    if (meta != null && !meta.isObject() && !meta.isNull()) {
      throw new CliException("error validating " + m.location() + ": metadata must be an object");
    }
    return m;
  }

  private static String describe(JsonNode n) {
    if (n.isArray()) {
      return "a list";
    }
    if (n.isTextual()) {
      return "the string \"" + abbreviate(n.asText()) + "\"";
    }
    return "the value " + abbreviate(n.toString());
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}

package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.output.OutputFormat;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code store}: read-only store inspection for learners, through the API server's {@code
 * /kubelite/v1/store/...} endpoints (the API server stays the store's only client; see
 * docs/apiserver.md and decision 0026). {@code store get} prints like {@code etcdctl get}, {@code
 * store status} like {@code etcdctl endpoint status --cluster} as a table.
 */
@Command(
    name = "store",
    mixinStandardHelpOptions = true,
    description = {
      "Inspect the store behind the API server (read-only), as etcdctl would show it.",
      "",
      "Examples:",
      "  kubectl-lite store get /registry/pods --prefix --keys-only",
      "  kubectl-lite store get /registry/namespaces/default",
      "  kubectl-lite store status"
    },
    subcommands = {StoreCommand.Get.class, StoreCommand.Status.class})
public final class StoreCommand implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: get or status");
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** {@code store get}: keys and values as etcdctl prints them (key line, value line). */
  @Command(
      name = "get",
      description = {
        "Get a key or a range of keys from the store, printed as etcdctl get prints them: each key"
            + " on a line, its value on the next (an empty line with --keys-only).",
        "",
        "Examples:",
        "  kubectl-lite store get /registry/pods --prefix --keys-only",
        "  kubectl-lite store get /registry/pods/default/web-1",
        "  kubectl-lite store get /registry/pods/default/web-1 --rev 42",
        "  kubectl-lite store get \"\" --prefix --keys-only --limit 10"
      })
  public static final class Get extends ClientCommand {
    @Parameters(index = "0", paramLabel = "KEY", description = "The key, or the key prefix.")
    String key;

    @Parameters(
        index = "1",
        arity = "0..1",
        paramLabel = "RANGE_END",
        description = "Get the keys in [KEY, RANGE_END).")
    String rangeEnd;

    @Option(names = "--prefix", description = "Get every key starting with KEY.")
    boolean prefix;

    @Option(names = "--from-key", description = "Get every key from KEY on (byte order).")
    boolean fromKey;

    @Option(names = "--keys-only", description = "Get the keys only, without values.")
    boolean keysOnly;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "At most N keys (default 0: no limit).")
    long limit;

    @Option(
        names = "--rev",
        paramLabel = "R",
        description = "Read at store revision R (default 0: the current one).")
    long revision;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        description =
            "json or yaml: the API server's whole answer (revisions, lease, count, more).")
    String output;

    @Override
    public Integer call() {
      OutputFormat format = Columns.document(output);
      if (prefix && fromKey) {
        throw new CliException("--prefix and --from-key cannot be used together");
      }
      if (rangeEnd != null && (prefix || fromKey)) {
        throw new CliException("RANGE_END cannot be used with --prefix or --from-key");
      }
      if (limit < 0 || revision < 0) {
        throw new CliException("--limit and --rev must not be negative");
      }
      List<String> q = new ArrayList<>();
      q.add("key=" + encode(key));
      if (rangeEnd != null) {
        q.add("rangeEnd=" + encode(rangeEnd));
      }
      if (prefix) {
        q.add("prefix=true");
      }
      if (fromKey) {
        q.add("fromKey=true");
      }
      if (keysOnly) {
        q.add("keysOnly=true");
      }
      if (limit > 0) {
        q.add("limit=" + limit);
      }
      if (revision > 0) {
        q.add("revision=" + revision);
      }
      ObjectNode answer =
          session().client().getPath("/kubelite/v1/store/keys?" + String.join("&", q));
      if (format != null) {
        ObjectPrinter.printDocument(out(), format, answer);
        return 0;
      }
      for (JsonNode kv : answer.path("kvs")) {
        out().println(text(kv, "key", "keyEncoding"));
        out().println(keysOnly ? "" : text(kv, "value", "valueEncoding"));
      }
      return 0;
    }

    /**
     * A key or value as etcdctl prints it: the stored bytes. Binary ones (sent as base64) are
     * decoded and shown as UTF-8, with replacement characters where they are not text, as a
     * terminal would show etcdctl's raw output; {@code -o json} has them exactly.
     */
    private static String text(JsonNode kv, String field, String encodingField) {
      String v = kv.path(field).asText("");
      if ("base64".equals(kv.path(encodingField).asText(""))) {
        return new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
      }
      return v;
    }
  }

  /** {@code store status}: members, leader, term, revision, as a table. */
  @Command(
      name = "status",
      description = {
        "Show the store cluster: its leader, Raft term and index, revision and compaction, and"
            + " each member's own status (etcdctl member list + endpoint status --cluster).",
        "",
        "Examples:",
        "  kubectl-lite store status",
        "  kubectl-lite store status -o yaml"
      })
  public static final class Status extends ClientCommand {
    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        description = "json or yaml: the API server's whole answer.")
    String output;

    @Override
    public Integer call() {
      OutputFormat format = Columns.document(output);
      ObjectNode s = session().client().getPath("/kubelite/v1/store/status");
      if (format != null) {
        ObjectPrinter.printDocument(out(), format, s);
        return 0;
      }
      String leaderId = s.path("leader").isNull() ? null : s.path("leader").asText();
      String leaderName = null;
      for (JsonNode m : s.path("members")) {
        if (m.path("id").asText().equals(leaderId)) {
          leaderName = m.path("name").asText();
        }
      }
      JsonNode compact = s.path("compactRevision");
      out()
          .println(
              "Cluster "
                  + s.path("clusterId").asText()
                  + ": leader "
                  + (leaderId == null
                      ? "none"
                      : (leaderName == null ? leaderId : leaderName + " (" + leaderId + ")"))
                  + ", raft term "
                  + s.path("raftTerm").asLong()
                  + ", raft index "
                  + s.path("raftIndex").asLong()
                  + ", revision "
                  + s.path("revision").asLong()
                  + ", compacted at "
                  + (compact.isNull() ? "unknown" : compact.asLong())
                  + ", db size "
                  + bytes(s.path("dbSize").asLong()));
      out().println();
      List<List<String>> rows = new ArrayList<>();
      rows.add(
          List.of(
              "NAME",
              "ID",
              "ENDPOINT",
              "VERSION",
              "DB SIZE",
              "IS LEADER",
              "IS LEARNER",
              "RAFT TERM",
              "RAFT INDEX",
              "RAFT APPLIED INDEX",
              "REVISION",
              "ERRORS"));
      for (JsonNode m : s.path("members")) {
        JsonNode st = m.path("status");
        boolean asked = st.isObject();
        String clientUrl = m.path("clientURLs").path(0).asText("");
        List<String> errors = new ArrayList<>();
        st.path("errors").forEach(e -> errors.add(e.asText()));
        if (m.has("error")) {
          errors.add(m.path("error").asText());
        }
        rows.add(
            List.of(
                m.path("name").asText(""),
                m.path("id").asText(),
                asked ? st.path("endpoint").asText() : clientUrl,
                asked ? st.path("version").asText() : "-",
                asked ? bytes(st.path("dbSize").asLong()) : "-",
                Boolean.toString(m.path("isLeader").asBoolean()),
                Boolean.toString(m.path("isLearner").asBoolean()),
                asked ? Long.toString(st.path("raftTerm").asLong()) : "-",
                asked ? Long.toString(st.path("raftIndex").asLong()) : "-",
                asked ? Long.toString(st.path("raftAppliedIndex").asLong()) : "-",
                asked ? Long.toString(st.path("revision").asLong()) : "-",
                errors.isEmpty() ? "" : String.join(", ", errors)));
      }
      Columns.print(out(), rows);
      return 0;
    }
  }

  /** Sizes as etcdctl prints them (go-humanize's SI units: {@code 25 kB}, {@code 1.2 MB}). */
  static String bytes(long n) {
    if (n < 10) {
      return n + " B";
    }
    String[] units = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int e = (int) Math.floor(Math.log(n) / Math.log(1000));
    double v = n / Math.pow(1000, e);
    String f =
        v < 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.0f", v);
    return f + " " + units[e];
  }
}

package dev.kubelite.kubectl.cmd;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.KubeClient;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.Version;
import dev.kubelite.kubectl.output.ObjectPrinter;
import dev.kubelite.kubectl.output.OutputFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code version}: this client's version and the API server's ({@code GET /version}). */
@Command(
    name = "version",
    description = {
      "Print the client and server version information.",
      "",
      "Examples:",
      "  kubectl-lite version",
      "  kubectl-lite version --client",
      "  kubectl-lite version -o json"
    })
public final class VersionCommand extends ClientCommand {
  @Option(names = "--client", description = "The client version only (no server needed).")
  boolean clientOnly;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "json or yaml (default: two lines of text).")
  String output;

  @Override
  public Integer call() {
    OutputFormat format = null;
    if (output != null && !output.isEmpty()) {
      if (!output.equals("json") && !output.equals("yaml")) {
        throw new CliException("--output must be 'yaml' or 'json'");
      }
      format = OutputFormat.parse(output);
    }
    String v = Version.client();
    String clientVersion = Character.isDigit(v.charAt(0)) ? "v" + v : v;
    ObjectNode client = KubeClient.JSON.createObjectNode();
    client.put("gitVersion", clientVersion);
    client.put("platform", platform());
    client.put("javaVersion", Runtime.version().toString());
    if (format == null) {
      out().println("Client Version: " + clientVersion);
      out().flush();
    }
    ObjectNode server = clientOnly ? null : session().client().getPath("/version");
    if (format == null) {
      if (server != null) {
        out().println("Server Version: " + server.path("gitVersion").asText());
      }
      return 0;
    }
    ObjectNode doc = KubeClient.JSON.createObjectNode();
    doc.set("clientVersion", client);
    if (server != null) {
      doc.set("serverVersion", server);
    }
    ObjectPrinter.printDocument(out(), format, doc);
    return 0;
  }

  private static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (arch.equals("x86_64")) {
      arch = "amd64";
    } else if (arch.equals("aarch64")) {
      arch = "arm64";
    }
    return (os.startsWith("mac") ? "darwin" : os.split(" ")[0]) + "/" + arch;
  }
}

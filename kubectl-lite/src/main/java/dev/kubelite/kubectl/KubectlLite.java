package dev.kubelite.kubectl;

import dev.kubelite.kubectl.cmd.ApiResourcesCommand;
import dev.kubelite.kubectl.cmd.ClusterInfoCommand;
import dev.kubelite.kubectl.cmd.ConfigCommand;
import dev.kubelite.kubectl.cmd.DescribeCommand;
import dev.kubelite.kubectl.cmd.GetCommand;
import dev.kubelite.kubectl.cmd.LogsCommand;
import dev.kubelite.kubectl.cmd.VersionCommand;
import dev.kubelite.kubectl.cmd.rollout.RolloutCommand;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code kubectl-lite}: kubectl's everyday verbs against a Kubelite (or any Kubernetes) API server.
 * Global flags may follow the verb, as with kubectl ({@code kubectl-lite get pods -n kube-system}).
 */
@Command(
    name = "kubectl-lite",
    mixinStandardHelpOptions = true,
    versionProvider = KubectlLite.ClientVersion.class,
    description = {
      "kubectl-lite controls a Kubelite cluster (or any Kubernetes API server) the way kubectl does.",
      "",
      "It reads the kubeconfig from --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else the"
          + " file `bin/kubelite up` wrote (~/.kubelite/admin.kubeconfig)."
    },
    subcommands = {
      GetCommand.class,
      DescribeCommand.class,
      RolloutCommand.class,
      LogsCommand.class,
      ClusterInfoCommand.class,
      ApiResourcesCommand.class,
      VersionCommand.class,
      ConfigCommand.class,
      CommandLine.HelpCommand.class
    })
public final class KubectlLite implements Runnable {
  @Option(
      names = "--kubeconfig",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "Path to the kubeconfig file to use.")
  String kubeconfig;

  @Option(
      names = "--context",
      scope = ScopeType.INHERIT,
      paramLabel = "NAME",
      description = "The kubeconfig context to use (default: its current-context).")
  String context;

  @Option(
      names = {"-n", "--namespace"},
      scope = ScopeType.INHERIT,
      paramLabel = "NS",
      description = "The namespace for this request (default: the context's, else default).")
  String namespace;

  @Option(
      names = "--server",
      scope = ScopeType.INHERIT,
      paramLabel = "URL",
      description = "The API server's address, overriding the kubeconfig's.")
  String server;

  private Session session;

  /** The connection settings every command shares; created on first use. */
  public Session session() {
    if (session == null) {
      session = new Session(kubeconfig, context, namespace, server);
    }
    return session;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        new CommandLine(this), "a command is required (see kubectl-lite --help)");
  }

  /** Runs one command line; returns the exit code (0 success, 1 any failure, as kubectl). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new KubectlLite());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> Errors.report(e, commandLine.getErr()));
    cli.setParameterExceptionHandler(
        (e, args1) -> {
          PrintWriter w = e.getCommandLine().getErr();
          w.println("error: " + e.getMessage());
          w.println(
              "See '"
                  + e.getCommandLine().getCommandSpec().qualifiedName()
                  + " --help' for usage.");
          w.flush();
          return 1;
        });
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, false, java.nio.charset.StandardCharsets.UTF_8);
    PrintWriter err = new PrintWriter(System.err, false, java.nio.charset.StandardCharsets.UTF_8);
    System.exit(run(args, out, err));
  }

  /** The client's version, from the jar's manifest when packaged. */
  static final class ClientVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"kubectl-lite " + Version.client()};
    }
  }
}

package dev.kubelite.kubectl;

import dev.kubelite.kubectl.cmd.ApiResourcesCommand;
import dev.kubelite.kubectl.cmd.ApplyCommand;
import dev.kubelite.kubectl.cmd.AuthCommand;
import dev.kubelite.kubectl.cmd.ClusterInfoCommand;
import dev.kubelite.kubectl.cmd.ConfigCommand;
import dev.kubelite.kubectl.cmd.CreateCommand;
import dev.kubelite.kubectl.cmd.DeleteCommand;
import dev.kubelite.kubectl.cmd.DescribeCommand;
import dev.kubelite.kubectl.cmd.EncryptionCommand;
import dev.kubelite.kubectl.cmd.GetCommand;
import dev.kubelite.kubectl.cmd.LogsCommand;
import dev.kubelite.kubectl.cmd.PatchCommand;
import dev.kubelite.kubectl.cmd.ScaleCommand;
import dev.kubelite.kubectl.cmd.StoreCommand;
import dev.kubelite.kubectl.cmd.VersionCommand;
import dev.kubelite.kubectl.cmd.rollout.RolloutCommand;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
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
    // Subcommands are added per run (see COMMANDS): building all of them costs startup time.
    subcommands = {})
public final class KubectlLite implements Runnable {
  /**
   * Every command, in the order {@code --help} lists them. A run builds only the one it invokes
   * (picocli reflects over each command class it is given, which adds up for a CLI).
   */
  static final List<Class<?>> COMMANDS =
      List.of(
          GetCommand.class,
          DescribeCommand.class,
          ApplyCommand.class,
          CreateCommand.class,
          DeleteCommand.class,
          PatchCommand.class,
          ScaleCommand.class,
          RolloutCommand.class,
          LogsCommand.class,
          ClusterInfoCommand.class,
          ApiResourcesCommand.class,
          VersionCommand.class,
          ConfigCommand.class,
          AuthCommand.class,
          StoreCommand.class,
          EncryptionCommand.class);

  /** The root flags that take a value as the next argument, to find the command name. */
  private static final Set<String> VALUED_FLAGS =
      Set.of("--kubeconfig", "--context", "-n", "--namespace", "--server", "--cache-dir");

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

  @Option(
      names = "--cache-dir",
      scope = ScopeType.INHERIT,
      paramLabel = "DIR",
      description = "Where discovery answers are cached (default: ~/.kubelite/cache).")
  Path cacheDir = Path.of(System.getProperty("user.home"), ".kubelite", "cache");

  private Session session;
  private InputStream stdin = System.in;
  private Prefetch prefetch;

  /**
   * The connection settings every command shares; created on first use, from the connection the
   * {@link Prefetch} thread prepared when it was made from the same flags.
   */
  public Session session() {
    if (session == null) {
      session = new Session(kubeconfig, context, namespace, server, cacheDir);
      if (prefetch != null) {
        session.adopt(prefetch.take(kubeconfig, context, server, cacheDir));
        prefetch = null;
      }
    }
    return session;
  }

  /** Standard input, for {@code -f -}. */
  public InputStream stdin() {
    return stdin;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        new CommandLine(this), "a command is required (see kubectl-lite --help)");
  }

  /** Runs one command line; returns the exit code (0 success, 1 any failure, as kubectl). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return run(args, System.in, out, err);
  }

  /** The same, reading standard input ({@code -f -}) from {@code in}. */
  public static int run(String[] args, InputStream in, PrintWriter out, PrintWriter err) {
    KubectlLite root = new KubectlLite();
    root.stdin = in;
    // Read the kubeconfig and build the TLS client on a second thread while picocli builds the
    // command on this one (decision 0082).
    root.prefetch = Prefetch.start(args, root.cacheDir);
    CommandLine cli = commandLine(root, args);
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> Errors.report(e, commandLine.getErr()));
    cli.setParameterExceptionHandler(
        (e, args1) -> {
          PrintWriter w = e.getCommandLine().getErr();
          String verb = verb(args1);
          if (e.getCommandLine() == cli
              && e instanceof CommandLine.UnmatchedArgumentException
              && verb != null) {
            w.println("error: unknown command \"" + verb + "\" for \"kubectl-lite\"");
          } else {
            w.println("error: " + e.getMessage());
          }
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

  /** The root command with the subcommand {@code args} invoke, or all of them when unclear. */
  static CommandLine commandLine(KubectlLite root, String[] args) {
    CommandLine cli = new CommandLine(root);
    String verb = verb(args);
    List<Class<?>> chosen = new ArrayList<>();
    for (Class<?> c : COMMANDS) {
      Command a = c.getAnnotation(Command.class);
      if (a.name().equals(verb) || Arrays.asList(a.aliases()).contains(verb)) {
        chosen.add(c);
      }
    }
    for (Class<?> c : chosen.isEmpty() ? COMMANDS : chosen) {
      cli.addSubcommand(c);
    }
    cli.addSubcommand(new CommandLine.HelpCommand());
    return cli;
  }

  /** The first argument that is not a root flag or a root flag's value, or null. */
  static String verb(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("-")) {
        if (VALUED_FLAGS.contains(a)) {
          i++;
        }
        continue;
      }
      return a;
    }
    return null;
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

package dev.kubelite.kubectl.cmd;

import dev.kubelite.kubectl.KubectlLite;
import dev.kubelite.kubectl.Session;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the API server: gives it the shared {@link Session} and the output
 * streams picocli was given (stdout for results, stderr for messages).
 */
public abstract class ClientCommand implements Callable<Integer> {
  @Spec protected CommandSpec spec;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;

  protected Session session() {
    return ((KubectlLite) spec.root().userObject()).session();
  }

  /** Standard input ({@code -f -}). */
  protected InputStream in() {
    return ((KubectlLite) spec.root().userObject()).stdin();
  }

  protected PrintWriter out() {
    return spec.commandLine().getOut();
  }

  protected PrintWriter err() {
    return spec.commandLine().getErr();
  }
}

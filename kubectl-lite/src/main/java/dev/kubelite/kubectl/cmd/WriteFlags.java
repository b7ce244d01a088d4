package dev.kubelite.kubectl.cmd;

import dev.kubelite.kubectl.write.DryRun;
import dev.kubelite.kubectl.write.WriteOutput;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The flags of the commands that write objects (create, apply, patch): --dry-run and -o. */
public final class WriteFlags {
  @Option(
      names = "--dry-run",
      paramLabel = "none|server|client",
      defaultValue = "none",
      description =
          "server: the server checks and answers but stores nothing; client: nothing that changes"
              + " anything is sent (default: ${DEFAULT-VALUE}).")
  String dryRun;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "Print the objects written as yaml, json, or their names (name).")
  String output;

  /** The parsed --dry-run. */
  public DryRun dryRun() {
    return DryRun.parse(dryRun);
  }

  /** Where the results go, as -o asks. */
  public WriteOutput output(PrintWriter out, DryRun dry) {
    return new WriteOutput(out, output, dry);
  }
}

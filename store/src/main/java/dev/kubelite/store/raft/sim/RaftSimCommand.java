package dev.kubelite.store.raft.sim;

import dev.kubelite.store.raft.RaftConfig.InjectedBug;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubelite raft-sim}: run or replay deterministic Raft cluster simulations. */
@Command(
    name = "raft-sim",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a whole Raft cluster in one thread under random faults (message loss, duplication,"
          + " reordering, partitions, crashes, membership changes, leadership transfers), checking"
          + " Raft's safety invariants after every step, client histories for linearizability, and"
          + " recovery after faults heal.",
      "A run is a pure function of its flags: a failing seed prints the command that replays it.",
      "With --trace every event (role changes, faults, membership changes) is printed."
    })
public final class RaftSimCommand implements Callable<Integer> {

  @Option(names = "--seed", description = "First seed to run (default: ${DEFAULT-VALUE}).")
  long seed = 1;

  @Option(
      names = "--seeds",
      description = "How many consecutive seeds to run (default: ${DEFAULT-VALUE}).")
  int seeds = 1;

  @Option(names = "--nodes", description = "Founding voters (default: ${DEFAULT-VALUE}).")
  int nodes = 3;

  @Option(
      names = "--fault-ticks",
      description = "Ticks of random faults (default: ${DEFAULT-VALUE}).")
  int faultTicks = SimConfig.standard(0, 3).faultTicks();

  @Option(
      names = "--heal-ticks",
      description =
          "Ticks the cluster gets to converge after faults heal (default: ${DEFAULT-VALUE}).")
  int healTicks = SimConfig.standard(0, 3).healTicks();

  @Option(names = "--clients", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
  int clients = SimConfig.standard(0, 3).clients();

  @Option(
      names = "--inject-bug",
      description =
          "Run a deliberately broken Raft to watch the checkers catch it: ${COMPLETION-CANDIDATES}.")
  Set<InjectedBug> bugs = EnumSet.noneOf(InjectedBug.class);

  @Option(names = "--trace", description = "Print every simulation event.")
  boolean trace;

  @Override
  public Integer call() {
    int failures = 0;
    for (long s = seed; s < seed + seeds; s++) {
      SimConfig config = new SimConfig(s, nodes, faultTicks, healTicks, clients, bugs);
      try {
        Simulation.SimResult result =
            new Simulation(config, trace ? System.out::println : null).run();
        System.out.println("seed " + s + " ok: " + result.stats());
      } catch (SimulationFailure f) {
        failures++;
        System.out.println("seed " + s + " FAILED: " + f.getMessage());
      }
    }
    if (seeds > 1) {
      System.out.println((seeds - failures) + " passed, " + failures + " failed");
    }
    return failures == 0 ? 0 : 1;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new RaftSimCommand()).execute(args));
  }
}

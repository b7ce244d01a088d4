package dev.kubelite.store.raft.sim;

import dev.kubelite.store.raft.RaftConfig.InjectedBug;
import java.util.Set;

/**
 * One simulation run. Everything that happens is a function of these values, so a run is replayed
 * exactly by running the same config again.
 *
 * @param seed the only source of randomness
 * @param nodes founding voters (3 or 5 in the suite)
 * @param faultTicks ticks of random faults (partitions, loss, crashes, membership changes, ...)
 * @param healTicks ticks after all faults heal, within which the cluster must recover (liveness)
 * @param clients concurrent clients issuing puts and linearizable reads
 * @param injectedBugs deliberate safety bugs, to show the checkers catch them
 */
public record SimConfig(
    long seed,
    int nodes,
    int faultTicks,
    int healTicks,
    int clients,
    Set<InjectedBug> injectedBugs) {

  public static SimConfig standard(long seed, int nodes) {
    return new SimConfig(seed, nodes, 1500, 400, 4, Set.of());
  }

  public SimConfig withBugs(Set<InjectedBug> bugs) {
    return new SimConfig(seed, nodes, faultTicks, healTicks, clients, bugs);
  }

  public SimConfig withFaultTicks(int ticks) {
    return new SimConfig(seed, nodes, ticks, healTicks, clients, injectedBugs);
  }

  /** The one-line command that replays this run exactly. */
  public String replayCommand() {
    StringBuilder sb =
        new StringBuilder("bin/kubelite raft-sim --seed ")
            .append(seed)
            .append(" --nodes ")
            .append(nodes)
            .append(" --fault-ticks ")
            .append(faultTicks)
            .append(" --heal-ticks ")
            .append(healTicks)
            .append(" --clients ")
            .append(clients);
    for (InjectedBug bug : injectedBugs) {
      sb.append(" --inject-bug ").append(bug);
    }
    return sb.append(" --trace").toString();
  }
}

package dev.kubelite.store.raft.sim;

/** A safety or liveness violation found by a simulation run; its message says how to replay it. */
public final class SimulationFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String violation;

  public SimulationFailure(SimConfig config, long tick, String violation, String recentEvents) {
    super(
        "seed "
            + config.seed()
            + " violated at tick "
            + tick
            + ": "
            + violation
            + "\nreplay: "
            + config.replayCommand()
            + "\nlast events:\n"
            + recentEvents);
    this.violation = violation;
  }

  /** The violation alone, without the replay hint and trace. */
  public String violation() {
    return violation;
  }
}

package dev.kubelite.scheduler.framework;

import java.util.List;

/**
 * Ranks the nodes that passed every filter. Scores are 0–100 after {@link #normalize}; the
 * framework adds them up, each multiplied by the plugin's {@link #weight()}.
 */
public interface ScorePlugin {
  int MAX_SCORE = 100;

  String name();

  int weight();

  /** The raw score of one feasible node. */
  long score(PodInfo pod, NodeInfo node);

  /**
   * Turns the raw scores of all feasible nodes (same order as {@code nodes}) into 0–100, in place.
   * The default leaves them as they are (for plugins that already score 0–100).
   */
  default void normalize(PodInfo pod, List<NodeInfo> nodes, long[] scores) {}
}

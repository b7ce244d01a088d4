package dev.kubelite.scheduler.plugins;

import dev.kubelite.scheduler.framework.FilterPlugin;
import dev.kubelite.scheduler.framework.Framework;
import dev.kubelite.scheduler.framework.ScorePlugin;
import java.util.List;
import java.util.Random;

/** The scheduler's plugin set, in kube-scheduler's filter order. */
public final class DefaultPlugins {
  private DefaultPlugins() {}

  public static List<FilterPlugin> filters() {
    return List.of(
        new NodeUnschedulable(),
        new TaintToleration(),
        new NodeReady(),
        new NodeAffinity(),
        new NodeResourcesFit());
  }

  public static List<ScorePlugin> scorers() {
    return List.of(new LeastAllocated(), new BalancedAllocation(), new OwnerSpread());
  }

  public static Framework framework(Random random) {
    return new Framework(filters(), scorers(), random);
  }
}

package dev.kubelite.launcher;

import dev.kubelite.kubelet.KubeletCommand;

/**
 * The simulated nodes of {@code kubelite up --ha}: {@code kubelite kubelet} (same flags) as a child
 * process that stops when its parent does ({@link ParentWatch}).
 */
public final class SimulatedNodes {
  private SimulatedNodes() {}

  public static void main(String[] args) {
    ParentWatch.exitWhenStdinCloses("kubelite kubelet");
    KubeletCommand.main(args);
  }
}

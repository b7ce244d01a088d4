package dev.kubelite.kubelet;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * What a simulated container "printed": a few lines the simulated kubelet writes as the container
 * starts, exits or is stopped (no process runs, so these are the only lines). Kept per container
 * instance, with the previous instance's lines for {@code kubectl logs --previous}; readers may
 * follow the current instance until it ends.
 */
final class ContainerLog {
  /** Lines kept per instance; older ones are dropped (a container's log rotates too). */
  static final int MAX_LINES = 1000;

  record Line(Instant at, String text) {}

  private Deque<Line> current = new ArrayDeque<>();
  private List<Line> previous;
  private boolean ended;
  private long appended;

  /** A new instance starts (first start or a restart): the current lines become the previous. */
  synchronized void newInstance() {
    if (appended > 0) {
      previous = new ArrayList<>(current);
    }
    current = new ArrayDeque<>();
    ended = false;
    appended = 0;
    notifyAll();
  }

  synchronized void append(Instant at, String text) {
    if (current.size() == MAX_LINES) {
      current.removeFirst();
    }
    current.addLast(new Line(at, text));
    appended++;
    notifyAll();
  }

  /** The current instance has stopped: followers get what is left and then the end. */
  synchronized void end() {
    ended = true;
    notifyAll();
  }

  synchronized List<Line> lines(boolean previousInstance) {
    if (previousInstance) {
      return previous == null ? null : List.copyOf(previous);
    }
    return List.copyOf(current);
  }

  /** Lines appended after the first {@code seen} of this instance; waits up to {@code ms}. */
  synchronized List<Line> after(long seen, long ms) throws InterruptedException {
    if (appended <= seen && !ended) {
      wait(ms);
    }
    long skip = seen - (appended - current.size());
    List<Line> out = new ArrayList<>();
    long i = 0;
    for (Line l : current) {
      if (i++ >= Math.max(0, skip)) {
        out.add(l);
      }
    }
    return out;
  }

  synchronized long appendedCount() {
    return appended;
  }

  synchronized boolean ended() {
    return ended;
  }
}

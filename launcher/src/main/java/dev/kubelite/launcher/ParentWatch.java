package dev.kubelite.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The link between a child process of {@code kubelite up --ha} and its parent, through the child's
 * stdin.
 *
 * <ul>
 *   <li>The child ends when its parent goes away, however it goes (Ctrl-C, SIGTERM, kill -9, a
 *       crash): the parent holds the write end of the child's stdin, which the kernel closes when
 *       the parent dies, so the child reads end-of-file and exits through its shutdown hooks (a
 *       clean stop, state kept).
 *   <li>The line {@value #DRAIN} asks the child to stop its controllers while the store still has
 *       its quorum (the first step of the parent's clean stop: see {@link HaCluster#close}).
 * </ul>
 */
final class ParentWatch {
  /** What the parent writes to ask a member to stop its scheduler and controller manager. */
  static final String DRAIN = "drain";

  private ParentWatch() {}

  /**
   * Exits when stdin closes, after running {@code onParentGone}; runs {@code onDrain} (once) when
   * the parent asks to drain.
   */
  static void watchStdin(String who, Runnable onDrain, Runnable onParentGone) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                boolean drained = false;
                String line;
                while ((line = in.readLine()) != null) {
                  if (line.strip().equals(DRAIN) && !drained) {
                    drained = true;
                    onDrain.run();
                  }
                }
              } catch (IOException e) {
                System.err.println(who + ": reading stdin failed (" + e + "); stopping");
              }
              System.err.println(who + ": the parent process is gone (stdin closed); stopping");
              onParentGone.run();
              System.exit(0);
            },
            "parent-watch");
    t.setDaemon(true);
    t.start();
  }

  static void exitWhenStdinCloses(String who) {
    watchStdin(who, () -> {}, () -> {});
  }
}

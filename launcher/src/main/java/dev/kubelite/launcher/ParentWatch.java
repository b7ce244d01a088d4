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
 *   <li>The child ignores SIGINT: Ctrl-C in a terminal signals the whole foreground process group,
 *       children included, and the parent must be the one that orders their stop.
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
    ignoreSigint(who);
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

  /**
   * Sets SIGINT's disposition to "ignore", through {@code sun.misc.Signal} (module jdk.unsupported,
   * there for this kind of use) called reflectively: javac warns about any direct use of it, and
   * warnings fail the build. If that API is missing, Ctrl-C reaches the child too, which then stops
   * at once rather than in the parent's order.
   */
  private static void ignoreSigint(String who) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object ignore = handler.getField("SIG_IGN").get(null);
      Object sigint = signal.getConstructor(String.class).newInstance("INT");
      signal.getMethod("handle", signal, handler).invoke(null, sigint, ignore);
    } catch (ReflectiveOperationException | RuntimeException e) {
      System.err.println(
          who + ": cannot ignore SIGINT (" + e + "); Ctrl-C stops this process directly");
    }
  }

  static void exitWhenStdinCloses(String who) {
    watchStdin(who, () -> {}, () -> {});
  }
}

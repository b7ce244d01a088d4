package dev.kubelite.kubectl;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * The connection set-up — reading the kubeconfig, its certificates and key, building the TLS
 * context and the HTTP client — started on a second thread as soon as a run begins, while the main
 * thread builds the command with picocli (decision 0082): on two cores the two overlap. The flags
 * that matter here are found with a plain scan of the arguments; the run uses the result only if
 * picocli then parsed the very same values (else it is dropped and the work done again), and a
 * failure here is never reported: the main thread repeats the work and reports it as usual. Nothing
 * is sent to the server from this thread.
 */
final class Prefetch {
  /** Commands that never talk to a server: nothing to prepare. */
  private static final Set<String> OFFLINE = Set.of("config", "help");

  /** The root flags that decide the connection. */
  private static final Set<String> CONNECTION_FLAGS =
      Set.of("--kubeconfig", "--context", "--server", "--cache-dir");

  private final String kubeconfig;
  private final String context;
  private final String server;
  private final Path cacheDir;
  private final Thread thread;
  private volatile Session session;

  private Prefetch(String kubeconfig, String context, String server, Path cacheDir) {
    this.kubeconfig = kubeconfig;
    this.context = context;
    this.server = server;
    this.cacheDir = cacheDir;
    this.thread = new Thread(this::prepare, "kubectl-lite-prefetch");
    thread.setDaemon(true);
  }

  /** Starts preparing the connection for this command line, or returns null when pointless. */
  static Prefetch start(String[] args, Path defaultCacheDir) {
    String verb = KubectlLite.verb(args);
    if (verb == null || OFFLINE.contains(verb)) {
      return null;
    }
    String kubeconfig = null;
    String context = null;
    String server = null;
    Path cacheDir = defaultCacheDir;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--")) {
        break;
      }
      if (a.equals("-h") || a.equals("--help") || a.equals("--version")) {
        return null;
      }
      String name = a;
      String value = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        name = a.substring(0, eq);
        value = a.substring(eq + 1);
      }
      if (!CONNECTION_FLAGS.contains(name)) {
        continue;
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          return null; // picocli will report the missing value
        }
        value = args[++i];
      }
      switch (name) {
        case "--kubeconfig" -> kubeconfig = value;
        case "--context" -> context = value;
        case "--server" -> server = value;
        default -> cacheDir = Path.of(value);
      }
    }
    Prefetch p = new Prefetch(kubeconfig, context, server, cacheDir);
    p.thread.start();
    return p;
  }

  private void prepare() {
    try {
      Session s = new Session(kubeconfig, context, null, server, cacheDir);
      s.client();
      session = s;
    } catch (RuntimeException e) {
      // Not reported here: the main thread does the same work again and reports it as usual.
    }
  }

  /**
   * The prepared session if it was made from these flags (waiting for it to finish), else null; the
   * caller then prepares its own.
   */
  Session take(String kubeconfigFlag, String contextFlag, String serverFlag, Path cacheDirFlag) {
    if (!Objects.equals(kubeconfig, kubeconfigFlag)
        || !Objects.equals(context, contextFlag)
        || !Objects.equals(server, serverFlag)
        || !Objects.equals(cacheDir, cacheDirFlag)) {
      return null;
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    return session;
  }
}

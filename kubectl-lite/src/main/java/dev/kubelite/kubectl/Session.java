package dev.kubelite.kubectl;

import dev.kubelite.client.Discovery;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.KubeConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What every command shares: the kubeconfig (as kubectl finds it, plus Kubelite's own default), the
 * chosen context and namespace, and a client and discovery created on first use.
 */
public final class Session {
  /** Where {@code bin/kubelite up} writes its kubeconfig by default. */
  public static final Path KUBELITE_KUBECONFIG =
      Path.of(System.getProperty("user.home"), ".kubelite", "admin.kubeconfig");

  private final String kubeconfigFlag;
  private final String contextFlag;
  private final String namespaceFlag;
  private final String serverFlag;
  private final Path cacheDir;
  private KubeConfig config;
  private KubeClient client;
  private ResourceResolver resolver;

  Session(
      String kubeconfigFlag,
      String contextFlag,
      String namespaceFlag,
      String serverFlag,
      Path cacheDir) {
    this.cacheDir = cacheDir;
    this.kubeconfigFlag = kubeconfigFlag;
    this.contextFlag = contextFlag;
    this.namespaceFlag = namespaceFlag;
    this.serverFlag = serverFlag;
  }

  /**
   * Takes over the kubeconfig and client another session (the {@link Prefetch}) made from the same
   * kubeconfig, context, server and cache flags; null: nothing to take.
   */
  void adopt(Session prepared) {
    if (prepared != null) {
      config = prepared.config;
      client = prepared.client;
    }
  }

  /**
   * The kubeconfig files in use: {@code --kubeconfig}, else {@code $KUBECONFIG}, else {@code
   * ~/.kube/config} when it exists, else the one {@code kubelite up} wrote.
   */
  public String kubeconfigLocation() {
    if (kubeconfigFlag != null && !kubeconfigFlag.isEmpty()) {
      return kubeconfigFlag;
    }
    String env = System.getenv("KUBECONFIG");
    if (env != null && !env.isEmpty()) {
      return null;
    }
    Path kube = Path.of(System.getProperty("user.home"), ".kube", "config");
    if (Files.exists(kube)) {
      return kube.toString();
    }
    return KUBELITE_KUBECONFIG.toString();
  }

  private boolean kubeconfigExists() {
    String location = kubeconfigLocation();
    return location == null || Files.exists(Path.of(location));
  }

  /** The merged kubeconfig. */
  public KubeConfig config() {
    if (config == null) {
      String location = kubeconfigLocation();
      if (location != null && !Files.exists(Path.of(location))) {
        throw new CliException(
            "no kubeconfig at "
                + location
                + ": start a cluster with `bin/kubelite up`, or pass --kubeconfig FILE");
      }
      config = KubeConfig.load(location);
    }
    return config;
  }

  /** The {@code --context} flag, or null. */
  public String contextFlag() {
    return contextFlag;
  }

  /** The context this invocation uses: {@code --context}, else the current context. */
  public KubeConfig.Context context() {
    KubeConfig c = config();
    if (contextFlag != null && !contextFlag.isEmpty()) {
      KubeConfig.Context ctx = c.contexts().get(contextFlag);
      if (ctx == null) {
        throw new CliException("context was not found for specified context: " + contextFlag);
      }
      return ctx;
    }
    return c.currentContext();
  }

  /** The namespace: {@code -n}, else the context's, else {@code default}. */
  public String namespace() {
    if (namespaceFlag != null && !namespaceFlag.isEmpty()) {
      return namespaceFlag;
    }
    if (serverFlag != null && !serverFlag.isEmpty() && !kubeconfigExists()) {
      return "default";
    }
    String ns = context().namespace();
    return ns == null || ns.isEmpty() ? "default" : ns;
  }

  /** Whether {@code -n} was given (some commands then refuse {@code -A}). */
  public boolean namespaceGiven() {
    return namespaceFlag != null && !namespaceFlag.isEmpty();
  }

  public KubeClient client() {
    if (client == null) {
      client = connect();
    }
    return client;
  }

  private KubeClient connect() {
    if (serverFlag != null && !serverFlag.isEmpty()) {
      return new KubeClient(URI.create(serverFlag), null, Duration.ofSeconds(30));
    }
    KubeConfig c = config();
    KubeConfig.Context ctx = context();
    if (c.cluster(ctx).server() == null) {
      throw new CliException("cluster " + ctx.cluster() + " in the kubeconfig has no server URL");
    }
    try {
      return KubeClient.fromConfig(c, ctx);
    } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
      throw new CliException("cannot use the kubeconfig: " + e.getMessage());
    }
  }

  /** Resolves the resource names users type ({@code po}, {@code deploy}, {@code pods.v1}). */
  public ResourceResolver resources() {
    if (resolver == null) {
      DiscoveryCache cache = new DiscoveryCache(cacheDir);
      KubeClient c = client();
      Optional<Discovery> cached = cache.read(c.server(), Instant.now());
      resolver =
          cached.isPresent()
              ? new ResourceResolver(cached.get(), () -> cache.load(c))
              : new ResourceResolver(cache.load(c));
    }
    return resolver;
  }

  /** For tests and commands that need every context. */
  Map<String, KubeConfig.Context> contexts() {
    return config().contexts();
  }
}

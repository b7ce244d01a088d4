package dev.kubelite.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A kubeconfig in kubectl's file format: clusters, users, contexts, current-context, with the
 * server's CA ({@code certificate-authority(-data)}), the user's client certificate and key ({@code
 * client-certificate(-data)}, {@code client-key(-data)}) and bearer token ({@code token}, {@code
 * tokenFile}); relative file paths are read from the kubeconfig's own directory, as kubectl does.
 *
 * <p>Where it is read from, as kubectl: the {@code --kubeconfig} flag if given, else the files in
 * {@code KUBECONFIG} (path-separator list, merged: the first file to set a name or the
 * current-context wins), else {@code ~/.kube/config}.
 */
public final class KubeConfig {
  /** A named cluster. */
  public record Cluster(
      String name,
      String server,
      String certificateAuthority,
      String certificateAuthorityData,
      boolean insecureSkipTlsVerify,
      String tlsServerName) {}

  /** A named user (AuthInfo). */
  public record User(
      String name,
      String token,
      String tokenFile,
      String clientCertificate,
      String clientCertificateData,
      String clientKey,
      String clientKeyData,
      String username,
      String password) {}

  /** A named context: cluster + user + default namespace. */
  public record Context(String name, String cluster, String user, String namespace) {}

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final Map<String, Cluster> clusters = new LinkedHashMap<>();
  private final Map<String, User> users = new LinkedHashMap<>();
  private final Map<String, Context> contexts = new LinkedHashMap<>();
  private String currentContext;

  private KubeConfig() {}

  /** Loads as kubectl does: flag, then {@code KUBECONFIG}, then {@code ~/.kube/config}. */
  public static KubeConfig load(String kubeconfigFlag) {
    return load(kubeconfigFlag, System.getenv("KUBECONFIG"), System.getProperty("user.home"));
  }

  static KubeConfig load(String flag, String env, String home) {
    List<Path> files = new ArrayList<>();
    if (flag != null && !flag.isEmpty()) {
      files.add(Path.of(flag));
    } else if (env != null && !env.isEmpty()) {
      for (String p : env.split(File.pathSeparator)) {
        if (!p.isEmpty() && Files.exists(Path.of(p))) {
          files.add(Path.of(p));
        }
      }
    } else {
      files.add(Path.of(home, ".kube", "config"));
    }
    KubeConfig c = new KubeConfig();
    for (Path p : files) {
      c.merge(p);
    }
    return c;
  }

  /** Parses one file. */
  public static KubeConfig parse(Path file) {
    KubeConfig c = new KubeConfig();
    c.merge(file);
    return c;
  }

  private void merge(Path file) {
    JsonNode root;
    try {
      root = YAML.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read kubeconfig " + file + ": " + e.getMessage() + " (check --kubeconfig)", e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return;
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException("kubeconfig " + file + " is not a YAML mapping");
    }
    for (JsonNode n : root.path("clusters")) {
      JsonNode c = n.path("cluster");
      String name = req(n, "name", file);
      clusters.putIfAbsent(
          name,
          new Cluster(
              name,
              str(c, "server"),
              path(file, str(c, "certificate-authority")),
              str(c, "certificate-authority-data"),
              c.path("insecure-skip-tls-verify").asBoolean(false),
              str(c, "tls-server-name")));
    }
    for (JsonNode n : root.path("users")) {
      JsonNode u = n.path("user");
      String name = req(n, "name", file);
      users.putIfAbsent(
          name,
          new User(
              name,
              str(u, "token"),
              path(file, str(u, "tokenFile")),
              path(file, str(u, "client-certificate")),
              str(u, "client-certificate-data"),
              path(file, str(u, "client-key")),
              str(u, "client-key-data"),
              str(u, "username"),
              str(u, "password")));
    }
    for (JsonNode n : root.path("contexts")) {
      JsonNode c = n.path("context");
      String name = req(n, "name", file);
      contexts.putIfAbsent(
          name, new Context(name, str(c, "cluster"), str(c, "user"), str(c, "namespace")));
    }
    if (currentContext == null || currentContext.isEmpty()) {
      currentContext = str(root, "current-context");
    }
  }

  /** A file named in {@code file}: relative to its directory, as kubectl resolves them. */
  private static String path(Path file, String value) {
    if (value == null || value.isEmpty() || Path.of(value).isAbsolute()) {
      return value;
    }
    Path dir = file.toAbsolutePath().getParent();
    return dir == null ? value : dir.resolve(value).toString();
  }

  private static String str(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static String req(JsonNode n, String field, Path file) {
    String v = str(n, field);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("kubeconfig " + file + ": an entry has no " + field);
    }
    return v;
  }

  public Map<String, Cluster> clusters() {
    return clusters;
  }

  public Map<String, User> users() {
    return users;
  }

  public Map<String, Context> contexts() {
    return contexts;
  }

  public String currentContextName() {
    return currentContext;
  }

  /** The current context; fails with a message saying what to set when there is none. */
  public Context currentContext() {
    if (currentContext == null || currentContext.isEmpty()) {
      throw new IllegalArgumentException(
          "the kubeconfig has no current-context: set one (kubectl config use-context NAME)");
    }
    Context c = contexts.get(currentContext);
    if (c == null) {
      throw new IllegalArgumentException(
          "context \"" + currentContext + "\" does not exist in the kubeconfig");
    }
    return c;
  }

  public Cluster cluster(Context ctx) {
    Cluster c = clusters.get(ctx.cluster());
    if (c == null) {
      throw new IllegalArgumentException(
          "cluster \"" + ctx.cluster() + "\" of context " + ctx.name() + " does not exist");
    }
    return c;
  }

  /** The context's user, or null when the context names none. */
  public User user(Context ctx) {
    if (ctx.user() == null || ctx.user().isEmpty()) {
      return null;
    }
    User u = users.get(ctx.user());
    if (u == null) {
      throw new IllegalArgumentException(
          "user \"" + ctx.user() + "\" of context " + ctx.name() + " does not exist");
    }
    return u;
  }

  /** The current context's namespace, {@code default} when unset. */
  public String namespace() {
    String ns = currentContext().namespace();
    return ns == null || ns.isEmpty() ? "default" : ns;
  }
}

package dev.kubelite.kubectl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubelite.client.Discovery;
import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.client.KubeClient;
import dev.kubelite.client.Resource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the API server serves, kept on disk for a while as kubectl does ({@code --cache-dir}), so a
 * command costs one request instead of one per API group. A cached copy is used for ten minutes; a
 * resource name it does not know makes the resolver read discovery again.
 */
public final class DiscoveryCache {
  static final Duration TTL = Duration.ofMinutes(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;

  public DiscoveryCache(Path dir) {
    this.dir = dir;
  }

  /** The cached discovery of {@code server}, if fresh and readable. */
  public Optional<Discovery> read(URI server, Instant now) {
    Path file = file(server);
    try {
      if (!Files.exists(file)
          || Files.getLastModifiedTime(file).toInstant().plus(TTL).isBefore(now)) {
        return Optional.empty();
      }
      List<ApiResource> resources = new ArrayList<>();
      for (JsonNode r : JSON.readTree(file.toFile())) {
        Set<String> verbs = new HashSet<>();
        r.path("verbs").forEach(v -> verbs.add(v.asText()));
        List<String> shortNames = new ArrayList<>();
        r.path("shortNames").forEach(v -> shortNames.add(v.asText()));
        resources.add(
            new ApiResource(
                new Resource(
                    r.path("group").asText(),
                    r.path("version").asText(),
                    r.path("resource").asText(),
                    r.path("namespaced").asBoolean()),
                r.path("kind").asText(),
                Set.copyOf(verbs),
                r.path("singularName").asText(),
                List.copyOf(shortNames)));
      }
      return Optional.of(Discovery.of(resources));
    } catch (IOException | RuntimeException unreadable) {
      // A damaged cache file is only a lost shortcut: discovery is read from the server instead.
      return Optional.empty();
    }
  }

  /** Reads discovery from the server and keeps it. */
  public Discovery load(KubeClient client) {
    Discovery d = Discovery.load(client);
    write(client.server(), d);
    return d;
  }

  private void write(URI server, Discovery d) {
    ArrayNode all = JSON.createArrayNode();
    for (ApiResource r : d.resources()) {
      ObjectNode o = all.addObject();
      o.put("group", r.resource().group());
      o.put("version", r.resource().version());
      o.put("resource", r.resource().resource());
      o.put("namespaced", r.resource().namespaced());
      o.put("kind", r.kind());
      r.verbs().stream().sorted().forEach(o.putArray("verbs")::add);
      o.put("singularName", r.singularName());
      r.shortNames().forEach(o.putArray("shortNames")::add);
    }
    Path file = file(server);
    try {
      Files.createDirectories(file.getParent());
      Path tmp = Files.createTempFile(file.getParent(), "discovery", ".tmp");
      Files.write(tmp, JSON.writeValueAsBytes(all));
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot write the discovery cache "
              + file
              + ": "
              + e.getMessage()
              + " (choose a writable directory with --cache-dir)",
          e);
    }
  }

  private Path file(URI server) {
    return dir.resolve("discovery").resolve(server.getHost() + "_" + server.getPort() + ".json");
  }
}

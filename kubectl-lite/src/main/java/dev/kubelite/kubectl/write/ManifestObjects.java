package dev.kubelite.kubectl.write;

import dev.kubelite.client.Discovery.ApiResource;
import dev.kubelite.kubectl.CliException;
import dev.kubelite.kubectl.Session;
import dev.kubelite.kubectl.input.Manifest;
import dev.kubelite.kubectl.input.ManifestObject;
import dev.kubelite.kubectl.input.ManifestReader;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The {@code -f} objects of a command, read and bound before anything is sent: a file that does not
 * parse, a document without apiVersion or kind, or a namespace that contradicts {@code -n} stops
 * the command; an unknown kind is reported in its place and the others go ahead (as kubectl).
 */
public final class ManifestObjects {
  /** One entry per object: the bound object, or the problem to report in its place. */
  public record Entry(ManifestObject object, String problem) {}

  private ManifestObjects() {}

  public static List<Entry> read(Session s, InputStream stdin, List<String> files, String verb) {
    List<Manifest> manifests = new ManifestReader(stdin).read(files);
    if (manifests.isEmpty()) {
      throw new CliException("no objects passed to " + verb);
    }
    List<Entry> out = new ArrayList<>();
    for (Manifest m : manifests) {
      StringBuilder problem = new StringBuilder();
      Optional<ManifestObject> o = ManifestObject.bind(s, m, problem);
      out.add(new Entry(o.orElse(null), o.isPresent() ? null : problem.toString()));
    }
    return out;
  }

  /**
   * Runs {@code action} on each object in order, as kubectl does with {@code -f}: an entry's
   * problem, or a failure of the action ({@link ApiFailure}, {@link CliException}), is reported on
   * {@code err} and the other objects still go ahead. Returns the exit code: 1 if anything failed.
   */
  public static int forEach(List<Entry> entries, PrintWriter err, Consumer<ManifestObject> action) {
    int exit = 0;
    for (Entry e : entries) {
      if (e.problem() != null) {
        err.println("error: " + e.problem());
        exit = 1;
        continue;
      }
      try {
        action.accept(e.object());
      } catch (ApiFailure f) {
        err.println(f.message());
        exit = 1;
      } catch (CliException c) {
        err.println("error: " + c.getMessage());
        exit = 1;
      }
      err.flush();
    }
    return exit;
  }

  /**
   * Whether the server takes strategic merge patches for this resource: the built-in groups (the
   * core group, unqualified names such as apps, and *.k8s.io), as kubectl decides by its scheme.
   */
  public static boolean strategic(ApiResource r) {
    String g = r.resource().group();
    return g.isEmpty() || !g.contains(".") || g.endsWith(".k8s.io");
  }
}

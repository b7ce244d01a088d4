package dev.kubelite.kubectl;

import dev.kubelite.client.Discovery.ApiResource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * kubectl's resource arguments: {@code TYPE[,TYPE...] [NAME...]} or {@code TYPE/NAME...}, resolved
 * against discovery, grouped by type in the order typed.
 */
public final class ResourceArgs {
  /** One resource type and the names asked for (empty: all of them). */
  public record Target(ApiResource resource, List<String> names) {}

  private ResourceArgs() {}

  public static List<Target> parse(ResourceResolver resolver, List<String> args, String verb) {
    if (args == null || args.isEmpty()) {
      throw new CliException(
          "you must specify the type of resource to "
              + verb
              + ". Use \"kubectl-lite api-resources\" for a"
              + " complete list of supported resources.");
    }
    Map<ApiResource, List<String>> byType = new LinkedHashMap<>();
    if (args.get(0).contains("/")) {
      for (String a : args) {
        int slash = a.indexOf('/');
        if (slash <= 0 || slash == a.length() - 1) {
          throw new CliException(
              "there is no need to specify a resource type as a separate argument when passing"
                  + " arguments in resource/name form (e.g. 'kubectl-lite "
                  + verb
                  + " resource/<resource_name>' instead of 'kubectl-lite "
                  + verb
                  + " resource resource/<resource_name>')");
        }
        byType
            .computeIfAbsent(resolver.resolve(a.substring(0, slash)), k -> new ArrayList<>())
            .add(a.substring(slash + 1));
      }
    } else {
      List<String> names = args.subList(1, args.size());
      for (String n : names) {
        if (n.contains("/")) {
          throw new CliException(
              "there is no need to specify a resource type as a separate argument when passing"
                  + " arguments in resource/name form (e.g. 'kubectl-lite "
                  + verb
                  + " resource/<resource_name>' instead of 'kubectl-lite "
                  + verb
                  + " resource resource/<resource_name>')");
        }
      }
      for (String type : args.get(0).split(",")) {
        if (type.isEmpty()) {
          continue;
        }
        byType.computeIfAbsent(resolver.resolve(type), k -> new ArrayList<>()).addAll(names);
      }
    }
    List<Target> out = new ArrayList<>();
    byType.forEach((r, names) -> out.add(new Target(r, List.copyOf(names))));
    return out;
  }
}

package dev.kubelite.kubectl.write;

import dev.kubelite.kubectl.CliException;

/**
 * {@code --dry-run}: {@code none} sends and persists, {@code server} sends with {@code dryRun=All}
 * (the server does everything but store), {@code client} sends nothing that changes anything.
 */
public enum DryRun {
  NONE,
  SERVER,
  CLIENT;

  public static DryRun parse(String flag) {
    if (flag == null) {
      return NONE;
    }
    return switch (flag) {
      case "none", "false" -> NONE;
      case "server" -> SERVER;
      case "client", "true" -> CLIENT;
      default ->
          throw new CliException(
              "Invalid dry-run value (" + flag + "). Must be \"none\", \"server\", or \"client\".");
    };
  }

  /**
   * What kubectl appends to the operation it prints: {@code (dry run)}, {@code (server dry run)}.
   */
  public String suffix() {
    return switch (this) {
      case NONE -> "";
      case SERVER -> " (server dry run)";
      case CLIENT -> " (dry run)";
    };
  }

  /**
   * The query parameter a request sends ({@code ?dryRun=All} or nothing); {@code sep} is ? or &.
   */
  public String query(char sep) {
    return this == SERVER ? sep + "dryRun=All" : "";
  }
}

package dev.kubelite.kubectl;

/** This client's version, for {@code --version} and {@code kubectl-lite version}. */
public final class Version {
  private Version() {}

  /** The Maven project version from the jar manifest, or {@code dev} when run from classes. */
  public static String client() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}

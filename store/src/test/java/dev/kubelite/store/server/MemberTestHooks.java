package dev.kubelite.store.server;

/** Test-only access to a member's package-private test hooks from other test packages. */
public final class MemberTestHooks {
  private MemberTestHooks() {}

  /**
   * The next {@code n} writes that carry a client request id are applied, but their caller is told
   * "request timed out" (see {@link StoreMember#loseNextAnswers}).
   */
  public static void loseNextAnswers(StoreServer server, int n) {
    server.member().loseNextAnswers(n);
  }
}

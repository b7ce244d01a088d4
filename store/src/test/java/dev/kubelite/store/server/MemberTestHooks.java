package dev.kubelite.store.server;

import dev.kubelite.store.raft.driver.RaftDriver;
import io.vertx.core.Vertx;

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

  /** A member with its own Raft tick and snapshot cadence, on a Vert.x instance of its own. */
  public static StoreServer start(MemberConfig config, RaftDriver.Options options)
      throws Exception {
    return StoreServer.start(config, Vertx.vertx(), true, options);
  }
}

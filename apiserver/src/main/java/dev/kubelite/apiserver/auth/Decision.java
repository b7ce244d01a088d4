package dev.kubelite.apiserver.auth;

/**
 * One authorizer's answer (Kubernetes' authorizer.Decision): allow, deny, or no opinion (the next
 * authorizer in the chain decides), with a reason for the user.
 */
public record Decision(Kind kind, String reason) {
  public enum Kind {
    ALLOW,
    DENY,
    NO_OPINION
  }

  public static Decision allow(String reason) {
    return new Decision(Kind.ALLOW, reason);
  }

  public static Decision deny(String reason) {
    return new Decision(Kind.DENY, reason);
  }

  public static Decision noOpinion(String reason) {
    return new Decision(Kind.NO_OPINION, reason);
  }

  public boolean allowed() {
    return kind == Kind.ALLOW;
  }

  /** An authorizer that returns a decision instead of throwing (for access reviews). */
  @FunctionalInterface
  public interface Maker {
    Decision decide(UserInfo user, RequestAttributes request);
  }
}

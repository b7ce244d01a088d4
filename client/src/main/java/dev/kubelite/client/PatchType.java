package dev.kubelite.client;

/** The patch formats the API server takes, by Content-Type. */
public enum PatchType {
  /** RFC 6902: a list of operations. */
  JSON("application/json-patch+json"),
  /** RFC 7386: a partial object, null deletes. */
  MERGE("application/merge-patch+json"),
  /** Kubernetes' strategic merge: lists merged by their merge keys. */
  STRATEGIC("application/strategic-merge-patch+json"),
  /** Server-side apply: the fields the manager wants set, the rest of its fields let go. */
  APPLY("application/apply-patch+yaml");

  public final String contentType;

  PatchType(String contentType) {
    this.contentType = contentType;
  }
}

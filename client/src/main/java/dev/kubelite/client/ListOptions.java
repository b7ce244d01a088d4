package dev.kubelite.client;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Query parameters of list and watch requests. Null (or 0 for numbers) means not sent.
 *
 * @param resourceVersion list: "" for a consistent read, "0" for any (cache); watch: start after it
 * @param timeoutSeconds watch: the server ends the stream after this long
 */
public record ListOptions(
    String labelSelector,
    String fieldSelector,
    String resourceVersion,
    long timeoutSeconds,
    boolean allowWatchBookmarks,
    long limit,
    String continueToken) {
  public static final ListOptions NONE = new ListOptions(null, null, null, 0, false, 0, null);

  public static ListOptions labels(String selector) {
    return NONE.withLabelSelector(selector);
  }

  public static ListOptions fields(String selector) {
    return NONE.withFieldSelector(selector);
  }

  public ListOptions withLabelSelector(String s) {
    return new ListOptions(
        s,
        fieldSelector,
        resourceVersion,
        timeoutSeconds,
        allowWatchBookmarks,
        limit,
        continueToken);
  }

  public ListOptions withFieldSelector(String s) {
    return new ListOptions(
        labelSelector,
        s,
        resourceVersion,
        timeoutSeconds,
        allowWatchBookmarks,
        limit,
        continueToken);
  }

  public ListOptions withResourceVersion(String rv) {
    return new ListOptions(
        labelSelector,
        fieldSelector,
        rv,
        timeoutSeconds,
        allowWatchBookmarks,
        limit,
        continueToken);
  }

  public ListOptions withTimeoutSeconds(long t) {
    return new ListOptions(
        labelSelector,
        fieldSelector,
        resourceVersion,
        t,
        allowWatchBookmarks,
        limit,
        continueToken);
  }

  public ListOptions withBookmarks(boolean b) {
    return new ListOptions(
        labelSelector, fieldSelector, resourceVersion, timeoutSeconds, b, limit, continueToken);
  }

  public ListOptions withLimit(long l, String cont) {
    return new ListOptions(
        labelSelector,
        fieldSelector,
        resourceVersion,
        timeoutSeconds,
        allowWatchBookmarks,
        l,
        cont);
  }

  /** The query string (without '?'), parameters URL-encoded. */
  String query(boolean watch) {
    StringBuilder b = new StringBuilder();
    if (watch) {
      add(b, "watch", "true");
    }
    add(b, "labelSelector", labelSelector);
    add(b, "fieldSelector", fieldSelector);
    add(b, "resourceVersion", resourceVersion);
    if (timeoutSeconds > 0) {
      add(b, "timeoutSeconds", Long.toString(timeoutSeconds));
    }
    if (watch && allowWatchBookmarks) {
      add(b, "allowWatchBookmarks", "true");
    }
    if (limit > 0) {
      add(b, "limit", Long.toString(limit));
    }
    add(b, "continue", continueToken);
    return b.toString();
  }

  private static void add(StringBuilder b, String k, String v) {
    if (v == null || v.isEmpty()) {
      return;
    }
    if (b.length() > 0) {
      b.append('&');
    }
    b.append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
  }
}

package dev.kubelite.apiserver.handler;

import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.FieldSelector;
import dev.kubelite.apiserver.api.LabelSelector;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.registry.Registry.ListOptions;

/** List and watch query parameters. */
final class ListOptionsParser {
  private ListOptionsParser() {}

  static ListOptions parse(Exchange ex) {
    long limit = 0;
    String l = ex.query("limit");
    if (l != null && !l.isEmpty()) {
      try {
        limit = Long.parseLong(l);
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("limit must be an integer, got \"" + l + "\"");
      }
      if (limit < 0) {
        limit = 0;
      }
    }
    return new ListOptions(
        LabelSelector.parse(ex.query("labelSelector")),
        FieldSelector.parse(ex.query("fieldSelector"), ex.type().kind()),
        limit,
        ex.query("continue"),
        ex.query("resourceVersion"),
        ex.query("resourceVersionMatch"));
  }
}

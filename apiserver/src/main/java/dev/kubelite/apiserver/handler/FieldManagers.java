package dev.kubelite.apiserver.handler;

import dev.kubelite.apiserver.api.ApiException;
import dev.kubelite.apiserver.api.ApiException.Cause;
import dev.kubelite.apiserver.http.Exchange;
import dev.kubelite.apiserver.managed.ManagedFields;
import dev.kubelite.apiserver.registry.FieldTracking;
import dev.kubelite.apiserver.registry.ResourceType;
import java.util.ArrayList;
import java.util.List;

/**
 * The field manager of a write, as kube-apiserver names it: the {@code fieldManager} query
 * parameter (at most 128 printable characters), else the User-Agent up to its first {@code /}
 * ({@code kubectl/v1.32.4 (linux/amd64) ...} is {@code kubectl}).
 */
final class FieldManagers {
  private FieldManagers() {}

  static final int MAX_LENGTH = 128;

  /** The {@code fieldManager} parameter, checked; "" when absent. */
  static String requested(Exchange ex, String optionsKind) {
    String m = ex.query("fieldManager");
    if (m == null) {
      return "";
    }
    List<Cause> causes = new ArrayList<>();
    if (m.length() > MAX_LENGTH) {
      causes.add(
          new Cause(
              "FieldValueTooLong",
              "fieldManager",
              "Too long: may not be more than " + MAX_LENGTH + " bytes"));
    }
    for (int i = 0; i < m.length(); ) {
      int cp = m.codePointAt(i);
      if (Character.isISOControl(cp) || !Character.isDefined(cp)) {
        causes.add(
            new Cause(
                "FieldValueInvalid",
                "fieldManager",
                String.format(
                    "Invalid value: \"%s\": invalid character U+%04X (at position %d)", m, cp, i)));
        break;
      }
      i += Character.charCount(cp);
    }
    if (!causes.isEmpty()) {
      throw ApiException.invalid("meta.k8s.io", optionsKind, "", causes);
    }
    return m;
  }

  /** The manager of a create, update or non-apply patch. */
  static String manager(Exchange ex, String optionsKind) {
    String m = requested(ex, optionsKind);
    if (!m.isEmpty()) {
      return m;
    }
    String agent = ex.routing().request().getHeader("User-Agent");
    if (agent == null) {
      return "";
    }
    int slash = agent.indexOf('/');
    String prefix = slash < 0 ? agent : agent.substring(0, slash);
    return prefix.length() > MAX_LENGTH ? prefix.substring(0, MAX_LENGTH) : prefix;
  }

  /**
   * Records the request's write as an {@code Update} of its manager; {@code subresource} is the one
   * named in the entry (status, scale) or null.
   */
  static FieldTracking updates(Exchange ex, String optionsKind, String subresource) {
    String manager = manager(ex, optionsKind);
    ResourceType t = ex.type();
    return (old, obj, time) -> ManagedFields.update(t, old, obj, manager, subresource, time);
  }
}

package dev.kubelite.apiserver.encryption;

import java.security.GeneralSecurityException;

/**
 * One way of storing values: a stored-value prefix ({@code k8s:enc:aesgcm:v1:key1:}, or empty for
 * identity) and the payload that follows it. Implementations are thread-safe and cheap (a few
 * microseconds for an object of a few KiB), so they run where the JSON of a value is encoded or
 * decoded.
 */
public interface Provider {
  /** What every value this provider writes starts with (empty for identity). */
  String prefix();

  /** The payload to store after {@link #prefix()} for {@code plain}, bound to {@code aad}. */
  byte[] seal(byte[] plain, byte[] aad) throws GeneralSecurityException;

  /**
   * The plaintext of a payload (the stored value without its prefix) that {@link #seal} wrote with
   * the same {@code aad}; throws if the payload is damaged or was written with another key.
   */
  byte[] open(byte[] payload, byte[] aad) throws GeneralSecurityException;

  /** What the prefix of every encrypted value starts with; identity refuses to read such values. */
  String ENCRYPTED_PREFIX = "k8s:enc:";
}

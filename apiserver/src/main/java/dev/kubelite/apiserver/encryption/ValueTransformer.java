package dev.kubelite.apiserver.encryption;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * The providers of one resource, in configuration order, as Kubernetes' prefix transformers: a
 * value is written with the first provider (its prefix, then its payload) and read with the first
 * provider whose prefix it starts with and that can open it (identity's empty prefix matches
 * everything but refuses encrypted values). A value read with any provider but the first is
 * <em>stale</em>: an update must rewrite it even if the object did not change.
 */
public final class ValueTransformer {
  private final List<Provider> providers;
  private final List<byte[]> prefixes;
  private final String source;

  /**
   * @param source where the providers come from, for error messages ("the --encryption-provider-
   *     config entry for secrets")
   */
  ValueTransformer(List<Provider> providers, String source) {
    if (providers.isEmpty()) {
      throw new IllegalArgumentException("a value transformer needs at least one provider");
    }
    this.providers = List.copyOf(providers);
    this.prefixes = new ArrayList<>();
    for (Provider p : this.providers) {
      prefixes.add(p.prefix().getBytes(StandardCharsets.UTF_8));
    }
    this.source = source;
  }

  /** Values stored as they are, encrypted ones refused: resources no configuration covers. */
  public static final ValueTransformer PLAINTEXT =
      new ValueTransformer(
          List.of(IdentityProvider.INSTANCE),
          "this resource, which no --encryption-provider-config entry covers,");

  /** A value as read: the plaintext, and whether it should be rewritten with the first provider. */
  public record Read(byte[] plain, boolean stale) {}

  /** The prefix of every value written now ("" when the first provider is identity). */
  public String writePrefix() {
    return providers.get(0).prefix();
  }

  /** {@code plain} as stored: the first provider's prefix and payload, bound to {@code aad}. */
  public byte[] toStorage(byte[] plain, byte[] aad) {
    Provider p = providers.get(0);
    byte[] payload;
    try {
      payload = p.seal(plain, aad);
    } catch (GeneralSecurityException e) {
      throw new ValueTransformException(
          "cannot encrypt the value with " + describe(p) + ": " + e.getMessage(), e);
    }
    byte[] prefix = prefixes.get(0);
    if (prefix.length == 0) {
      return payload;
    }
    byte[] out = new byte[prefix.length + payload.length];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    System.arraycopy(payload, 0, out, prefix.length, payload.length);
    return out;
  }

  /**
   * The plaintext of a stored value; throws {@link ValueTransformException} saying why no provider
   * could read it.
   */
  public Read fromStorage(byte[] stored, byte[] aad) {
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < providers.size(); i++) {
      byte[] prefix = prefixes.get(i);
      if (!IdentityProvider.startsWith(stored, prefix)) {
        continue;
      }
      Provider p = providers.get(i);
      byte[] payload =
          prefix.length == 0
              ? stored
              : java.util.Arrays.copyOfRange(stored, prefix.length, stored.length);
      try {
        return new Read(p.open(payload, aad), i != 0);
      } catch (GeneralSecurityException e) {
        if (prefix.length > 0) {
          failures.add(describe(p) + ": " + e.getMessage());
        }
      }
    }
    String storedPrefix = storedPrefix(stored);
    if (!failures.isEmpty()) {
      throw new ValueTransformException(
          "the value is stored with "
              + storedPrefix
              + " and cannot be decrypted ("
              + String.join("; ", failures)
              + "): the key named in the prefix is not the key that encrypted it; put the right"
              + " secret for that key name in --encryption-provider-config and restart the API"
              + " server");
    }
    if (storedPrefix.equals("plaintext")) {
      throw new ValueTransformException(
          "the value is stored unencrypted and "
              + source
              + " has no identity provider to read it: add '- identity: {}' as the last provider,"
              + " restart the API server and rewrite the stored objects (POST"
              + " /kubelite/v1/encryption/rewrite)");
    }
    throw new ValueTransformException(
        "the value is stored encrypted with "
            + storedPrefix
            + " but "
            + source
            + " has no provider with that key: add the key to --encryption-provider-config (after"
            + " the current write key) and restart the API server");
  }

  private String describe(Provider p) {
    return p.prefix().isEmpty() ? "identity" : p.prefix();
  }

  /**
   * The provider prefix a stored value starts with ({@code k8s:enc:aesgcm:v1:key1:}), or {@code
   * plaintext}: the prefix is everything up to the fifth colon.
   */
  public static String storedPrefix(byte[] stored) {
    if (!IdentityProvider.startsWith(
        stored, Provider.ENCRYPTED_PREFIX.getBytes(StandardCharsets.US_ASCII))) {
      return "plaintext";
    }
    int colons = 0;
    int limit = Math.min(stored.length, 256);
    for (int i = 0; i < limit; i++) {
      if (stored[i] == ':' && ++colons == 5) {
        return new String(stored, 0, i + 1, StandardCharsets.UTF_8);
      }
    }
    return "an unrecognised k8s:enc: prefix";
  }
}

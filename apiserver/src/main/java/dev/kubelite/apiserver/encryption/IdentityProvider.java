package dev.kubelite.apiserver.encryption;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/**
 * Kubernetes' {@code identity} provider: values stored as they are. Refuses to read a value that
 * starts with {@code k8s:enc:} (then a later provider in the list may decrypt it).
 */
final class IdentityProvider implements Provider {
  static final IdentityProvider INSTANCE = new IdentityProvider();

  private static final byte[] ENCRYPTED = ENCRYPTED_PREFIX.getBytes(StandardCharsets.US_ASCII);

  private IdentityProvider() {}

  @Override
  public String prefix() {
    return "";
  }

  @Override
  public byte[] seal(byte[] plain, byte[] aad) {
    return plain;
  }

  @Override
  public byte[] open(byte[] payload, byte[] aad) throws GeneralSecurityException {
    if (startsWith(payload, ENCRYPTED)) {
      throw new GeneralSecurityException("the identity provider cannot read encrypted data");
    }
    return payload;
  }

  static boolean startsWith(byte[] data, byte[] prefix) {
    if (data.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (data[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}

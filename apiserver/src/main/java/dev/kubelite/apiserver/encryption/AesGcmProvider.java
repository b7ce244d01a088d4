package dev.kubelite.apiserver.encryption;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Kubernetes' {@code aesgcm} provider: payload = random 12-byte nonce + AES-GCM ciphertext with its
 * 16-byte tag, the storage key ({@code /registry/secrets/default/s1}) as additional authenticated
 * data, so a value copied to another key does not decrypt.
 */
final class AesGcmProvider implements Provider {
  static final int NONCE_BYTES = 12;
  static final int TAG_BITS = 128;

  private static final ThreadLocal<Cipher> CIPHER =
      ThreadLocal.withInitial(() -> Ciphers.get("AES/GCM/NoPadding"));

  private final String prefix;
  private final SecretKeySpec key;
  private final SecureRandom random;

  AesGcmProvider(String keyName, byte[] key, SecureRandom random) {
    this.prefix = ENCRYPTED_PREFIX + "aesgcm:v1:" + keyName + ":";
    this.key = new SecretKeySpec(key, "AES");
    this.random = random;
  }

  @Override
  public String prefix() {
    return prefix;
  }

  @Override
  public byte[] seal(byte[] plain, byte[] aad) throws GeneralSecurityException {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    Cipher c = CIPHER.get();
    c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
    c.updateAAD(aad);
    byte[] out = new byte[NONCE_BYTES + c.getOutputSize(plain.length)];
    System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
    int n = c.doFinal(plain, 0, plain.length, out, NONCE_BYTES);
    if (n != out.length - NONCE_BYTES) {
      throw new GeneralSecurityException("AES-GCM wrote " + n + " bytes, expected more");
    }
    return out;
  }

  @Override
  public byte[] open(byte[] payload, byte[] aad) throws GeneralSecurityException {
    if (payload.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new GeneralSecurityException(
          "the stored data is shorter than an AES-GCM nonce and tag");
    }
    Cipher c = CIPHER.get();
    c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, payload, 0, NONCE_BYTES));
    c.updateAAD(aad);
    try {
      return c.doFinal(payload, NONCE_BYTES, payload.length - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new GeneralSecurityException(
          "AES-GCM authentication failed: wrong key, or the value was altered or moved to another"
              + " key",
          e);
    }
  }
}

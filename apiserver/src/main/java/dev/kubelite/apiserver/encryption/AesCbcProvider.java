package dev.kubelite.apiserver.encryption;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Kubernetes' {@code aescbc} provider: payload = random 16-byte IV + AES-CBC ciphertext of the
 * value with PKCS#7 padding. Not authenticated (Kubernetes no longer recommends it; kept for
 * configurations that use it): a wrong key usually shows as bad padding, otherwise as a value that
 * is not JSON.
 */
final class AesCbcProvider implements Provider {
  static final int BLOCK = 16;

  private static final ThreadLocal<Cipher> CIPHER =
      ThreadLocal.withInitial(() -> Ciphers.get("AES/CBC/NoPadding"));

  private final String prefix;
  private final SecretKeySpec key;
  private final SecureRandom random;

  AesCbcProvider(String keyName, byte[] key, SecureRandom random) {
    this.prefix = ENCRYPTED_PREFIX + "aescbc:v1:" + keyName + ":";
    this.key = new SecretKeySpec(key, "AES");
    this.random = random;
  }

  @Override
  public String prefix() {
    return prefix;
  }

  @Override
  public byte[] seal(byte[] plain, byte[] aad) throws GeneralSecurityException {
    int pad = BLOCK - plain.length % BLOCK;
    byte[] out = new byte[BLOCK + plain.length + pad];
    byte[] iv = new byte[BLOCK];
    random.nextBytes(iv);
    System.arraycopy(iv, 0, out, 0, BLOCK);
    System.arraycopy(plain, 0, out, BLOCK, plain.length);
    for (int i = BLOCK + plain.length; i < out.length; i++) {
      out[i] = (byte) pad;
    }
    Cipher c = CIPHER.get();
    c.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
    c.doFinal(out, BLOCK, out.length - BLOCK, out, BLOCK);
    return out;
  }

  @Override
  public byte[] open(byte[] payload, byte[] aad) throws GeneralSecurityException {
    if (payload.length < 2 * BLOCK || payload.length % BLOCK != 0) {
      throw new GeneralSecurityException(
          "the stored data is not an AES-CBC IV followed by whole blocks");
    }
    Cipher c = CIPHER.get();
    c.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(payload, 0, BLOCK));
    byte[] plain = c.doFinal(payload, BLOCK, payload.length - BLOCK);
    int pad = plain[plain.length - 1] & 0xff;
    if (pad == 0 || pad > BLOCK || pad > plain.length) {
      throw new GeneralSecurityException("invalid PKCS#7 padding: wrong key or damaged value");
    }
    for (int i = plain.length - pad; i < plain.length; i++) {
      if ((plain[i] & 0xff) != pad) {
        throw new GeneralSecurityException("invalid PKCS#7 padding: wrong key or damaged value");
      }
    }
    byte[] out = new byte[plain.length - pad];
    System.arraycopy(plain, 0, out, 0, out.length);
    return out;
  }
}

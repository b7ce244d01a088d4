package dev.kubelite.apiserver.encryption;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * Kubernetes' {@code secretbox} provider: payload = random 24-byte nonce + NaCl secretbox
 * (XSalsa20-Poly1305: the 16-byte Poly1305 tag, then the ciphertext). The Poly1305 key is the first
 * 32 bytes of the XSalsa20 key stream, the plaintext is XORed with the stream after them. No
 * additional authenticated data, as in Kubernetes.
 */
final class SecretboxProvider implements Provider {
  static final int NONCE_BYTES = 24;
  static final int TAG_BYTES = 16;

  private final String prefix;
  private final byte[] key;
  private final SecureRandom random;

  SecretboxProvider(String keyName, byte[] key, SecureRandom random) {
    this.prefix = ENCRYPTED_PREFIX + "secretbox:v1:" + keyName + ":";
    this.key = key.clone();
    this.random = random;
  }

  @Override
  public String prefix() {
    return prefix;
  }

  @Override
  public byte[] seal(byte[] plain, byte[] aad) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    return seal(key, nonce, plain);
  }

  /** nonce + secretbox(plain): the payload for a given nonce (known-answer tests). */
  static byte[] seal(byte[] key, byte[] nonce, byte[] plain) {
    XSalsa20Engine stream = stream(key, nonce);
    byte[] macKey = new byte[32];
    stream.processBytes(macKey, 0, 32, macKey, 0);
    byte[] out = new byte[NONCE_BYTES + TAG_BYTES + plain.length];
    System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
    int ct = NONCE_BYTES + TAG_BYTES;
    stream.processBytes(plain, 0, plain.length, out, ct);
    Poly1305 mac = new Poly1305();
    mac.init(new KeyParameter(macKey));
    mac.update(out, ct, plain.length);
    mac.doFinal(out, NONCE_BYTES);
    return out;
  }

  @Override
  public byte[] open(byte[] payload, byte[] aad) throws GeneralSecurityException {
    if (payload.length < NONCE_BYTES + TAG_BYTES) {
      throw new GeneralSecurityException(
          "the stored data is shorter than a secretbox nonce and tag");
    }
    byte[] nonce = new byte[NONCE_BYTES];
    System.arraycopy(payload, 0, nonce, 0, NONCE_BYTES);
    XSalsa20Engine stream = stream(key, nonce);
    byte[] macKey = new byte[32];
    stream.processBytes(macKey, 0, 32, macKey, 0);
    int ct = NONCE_BYTES + TAG_BYTES;
    int n = payload.length - ct;
    Poly1305 mac = new Poly1305();
    mac.init(new KeyParameter(macKey));
    mac.update(payload, ct, n);
    byte[] tag = new byte[TAG_BYTES];
    mac.doFinal(tag, 0);
    byte[] stored = new byte[TAG_BYTES];
    System.arraycopy(payload, NONCE_BYTES, stored, 0, TAG_BYTES);
    if (!MessageDigest.isEqual(tag, stored)) {
      throw new GeneralSecurityException(
          "secretbox authentication failed: wrong key, or the value was altered");
    }
    byte[] plain = new byte[n];
    stream.processBytes(payload, ct, n, plain, 0);
    return plain;
  }

  private static XSalsa20Engine stream(byte[] key, byte[] nonce) {
    XSalsa20Engine e = new XSalsa20Engine();
    e.init(true, new ParametersWithIV(new KeyParameter(key), nonce));
    return e;
  }
}

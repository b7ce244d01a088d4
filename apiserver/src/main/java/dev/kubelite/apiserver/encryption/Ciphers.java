package dev.kubelite.apiserver.encryption;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;

/** JCE ciphers that every Java 17 runtime has. */
final class Ciphers {
  private Ciphers() {}

  static Cipher get(String transformation) {
    try {
      return Cipher.getInstance(transformation);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "this Java runtime lacks " + transformation + ", which every Java 17 runtime has", e);
    }
  }
}

package dev.kubelite.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The BouncyCastle fallback of {@link PemFiles}: keys in forms {@link JdkPem} does not read. Kept
 * in its own class so that BC's classes are loaded only when this is called (decision 0082).
 */
final class BouncyPem {
  private BouncyPem() {}

  /** The first private key BC finds in the text, or null. */
  static PrivateKey privateKey(String pem, String what) {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof PrivateKeyInfo info) {
          return conv.getPrivateKey(info);
        }
        if (o instanceof PEMKeyPair pair) {
          return conv.getKeyPair(pair).getPrivate();
        }
      }
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a private key from " + what, e);
    } catch (RuntimeException e) { // BC's DecoderException and the like: unreadable input
      throw new IllegalArgumentException("cannot read a private key from " + what, e);
    }
  }

  /** The first public key (SubjectPublicKeyInfo) BC finds in the text, or null. */
  static PublicKey publicKey(String pem, String what) {
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof SubjectPublicKeyInfo info) {
          return new JcaPEMKeyConverter().getPublicKey(info);
        }
      }
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a public key from " + what, e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("cannot read a public key from " + what, e);
    }
  }
}

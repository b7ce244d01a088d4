package dev.kubelite.apiserver.auth;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import org.bouncycastle.jce.ECNamedCurveTable;

/** The public half of an EC P-256 private key (a signing key given where a verifying one goes). */
public final class ServiceAccountKeys {
  private ServiceAccountKeys() {}

  public static PublicKey publicOf(PrivateKey key) {
    if (!(key instanceof ECPrivateKey ec)) {
      throw new IllegalArgumentException(
          "ServiceAccount keys must be EC P-256 (ES256), got " + key.getAlgorithm());
    }
    org.bouncycastle.math.ec.ECPoint q =
        ECNamedCurveTable.getParameterSpec("secp256r1").getG().multiply(ec.getS()).normalize();
    ECPoint point =
        new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
    try {
      return KeyFactory.getInstance("EC")
          .generatePublic(new ECPublicKeySpec(point, ec.getParams()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot derive the public key of an EC private key", e);
    }
  }
}

package dev.kubelite.pki;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Key pairs and X.509 certificates: ECDSA P-256 keys, SHA-256 signatures (decision 0090). Uses the
 * JDK's own providers for the cryptography; BouncyCastle only builds and encodes certificates.
 */
final class Certificates {
  /** Certificates start this long before they are issued, so a peer's clock skew is tolerated. */
  static final Duration BACKDATE = Duration.ofMinutes(5);

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  /** What a leaf certificate is used for, as its extended key usage says. */
  enum Usage {
    SERVER(KeyPurposeId.id_kp_serverAuth),
    CLIENT(KeyPurposeId.id_kp_clientAuth);

    final KeyPurposeId purpose;

    Usage(KeyPurposeId purpose) {
      this.purpose = purpose;
    }
  }

  private Certificates() {}

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot generate ECDSA P-256 keys", e);
    }
  }

  /** A subject with this common name and these organizations (Kubernetes' user and groups). */
  static X500Name subject(String commonName, List<String> organizations) {
    X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
    for (String o : organizations) {
      b.addRDN(BCStyle.O, o);
    }
    b.addRDN(BCStyle.CN, commonName);
    return b.build();
  }

  /** A self-signed CA certificate for this key pair. */
  static X509Certificate selfSignedCa(
      String commonName, KeyPair keyPair, Instant now, Duration validity) {
    X500Name name = subject(commonName, List.of());
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  name,
                  serial(),
                  Date.from(now.minus(BACKDATE)),
                  Date.from(now.plus(validity)),
                  name,
                  keyPair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  utils.createSubjectKeyIdentifier(keyPair.getPublic()));
      return sign(b, keyPair.getPrivate());
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("could not build the CA certificate " + commonName, e);
    }
  }

  /**
   * A leaf certificate for {@code publicKey}, signed by the CA; valid for {@code validity} but
   * never past the CA's own expiry.
   */
  static X509Certificate issue(
      X509Certificate caCert,
      PrivateKey caKey,
      X500Name subject,
      PublicKey publicKey,
      List<KeyPurposeId> usages,
      GeneralNames sans,
      Instant now,
      Duration validity) {
    Instant notAfter = now.plus(validity);
    Instant caNotAfter = caCert.getNotAfter().toInstant();
    if (notAfter.isAfter(caNotAfter)) {
      notAfter = caNotAfter;
    }
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
                  X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded()),
                  serial(),
                  Date.from(now.minus(BACKDATE)),
                  Date.from(notAfter),
                  subject,
                  publicKey)
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(usages.toArray(KeyPurposeId[]::new)))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  utils.createAuthorityKeyIdentifier(caCert));
      if (sans != null && sans.getNames().length > 0) {
        b.addExtension(Extension.subjectAlternativeName, false, sans);
      }
      return sign(b, caKey);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("could not build the certificate for " + subject, e);
    }
  }

  /** The key purposes of an existing certificate (empty if it has none). */
  static List<KeyPurposeId> usages(X509Certificate cert) {
    ExtendedKeyUsage eku = ExtendedKeyUsage.fromExtensions(holder(cert).getExtensions());
    return eku == null ? List.of() : List.of(eku.getUsages());
  }

  /** The subject alternative names of an existing certificate, or null. */
  static GeneralNames sans(X509Certificate cert) {
    return GeneralNames.fromExtensions(
        holder(cert).getExtensions(), Extension.subjectAlternativeName);
  }

  static X500Name subjectOf(X509Certificate cert) {
    return X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
  }

  /** The DNS names and IP addresses as subject alternative names; IP literals become IP SANs. */
  static GeneralNames sans(Set<String> names) {
    List<GeneralName> out = new ArrayList<>();
    for (String n : new LinkedHashSet<>(names)) {
      out.add(
          isIpLiteral(n)
              ? new GeneralName(GeneralName.iPAddress, n)
              : new GeneralName(GeneralName.dNSName, n));
    }
    return new GeneralNames(out.toArray(GeneralName[]::new));
  }

  /**
   * Whether every one of {@code names} is in the certificate's SANs (IPs compared as addresses).
   */
  static List<String> missingSans(X509Certificate cert, Set<String> names) {
    Set<String> have = new LinkedHashSet<>();
    GeneralNames sans = sans(cert);
    if (sans != null) {
      for (GeneralName g : sans.getNames()) {
        have.add(sanText(g));
      }
    }
    List<String> missing = new ArrayList<>();
    for (String n : names) {
      if (!have.contains(normalize(n))) {
        missing.add(n);
      }
    }
    return missing;
  }

  static String sanText(GeneralName g) {
    if (g.getTagNo() == GeneralName.iPAddress) {
      byte[] octets = org.bouncycastle.asn1.DEROctetString.getInstance(g.getName()).getOctets();
      try {
        return InetAddress.getByAddress(octets).getHostAddress();
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("malformed IP address SAN", e);
      }
    }
    return g.getName().toString().toLowerCase(java.util.Locale.ROOT);
  }

  private static String normalize(String name) {
    if (isIpLiteral(name)) {
      try {
        return InetAddress.getByName(name).getHostAddress();
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("malformed IP address " + name, e);
      }
    }
    return name.toLowerCase(java.util.Locale.ROOT);
  }

  static boolean isIpLiteral(String s) {
    return IPV4.matcher(s).matches() || s.contains(":");
  }

  /** Whether {@code key} is the private half of the certificate's public key. */
  static boolean matches(X509Certificate cert, PrivateKey key) {
    try {
      String alg =
          key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with" + key.getAlgorithm();
      byte[] probe = "kubelite-key-check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Whether {@code ca} signed {@code cert}. */
  static boolean signedBy(X509Certificate cert, X509Certificate ca) {
    if (!cert.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      return false;
    }
    try {
      cert.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static X509CertificateHolder holder(X509Certificate cert) {
    try {
      return new JcaX509CertificateHolder(cert);
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalArgumentException(
          "cannot decode certificate " + cert.getSubjectX500Principal(), e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws GeneralSecurityException {
    String alg =
        key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with" + key.getAlgorithm();
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder(alg).build(key)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign with a " + key.getAlgorithm() + " key", e);
    }
  }
}

package dev.kubelite.pki;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Reads and writes PEM files: certificates ({@code CERTIFICATE}, mode 0644) and private keys
 * (PKCS#8 {@code PRIVATE KEY}, mode 0600), each written atomically. Reading also accepts the {@code
 * EC PRIVATE KEY} and {@code RSA PRIVATE KEY} forms that kubeadm and openssl write.
 */
public final class PemFiles {
  static final Set<PosixFilePermission> KEY_MODE = PosixFilePermissions.fromString("rw-------");
  static final Set<PosixFilePermission> CERT_MODE = PosixFilePermissions.fromString("rw-r--r--");
  static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");

  private PemFiles() {}

  /** Creates the directory (and missing parents) with mode 0700 if it does not exist. */
  static void ensureDir(Path dir) {
    try {
      if (!Files.isDirectory(dir)) {
        if (dir.getParent() != null) {
          Files.createDirectories(dir.getParent());
        }
        try {
          Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
        } catch (FileAlreadyExistsException raced) {
          // made meanwhile by another process: fine, it exists
        }
        Files.setPosixFilePermissions(dir, DIR_MODE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the PKI directory " + dir, e);
    }
  }

  static void writeCertificate(Path file, X509Certificate cert) {
    try {
      write(file, pem("CERTIFICATE", cert.getEncoded()), CERT_MODE);
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode the certificate for " + file, e);
    }
  }

  static void writeKey(Path file, PrivateKey key) {
    write(file, pem("PRIVATE KEY", key.getEncoded()), KEY_MODE);
  }

  static void writePublicKey(Path file, java.security.PublicKey key) {
    write(file, pem("PUBLIC KEY", key.getEncoded()), CERT_MODE);
  }

  /** Reads a PEM {@code PUBLIC KEY} (X.509 SubjectPublicKeyInfo). */
  public static java.security.PublicKey readPublicKey(Path file) {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser p = new PEMParser(r)) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof org.bouncycastle.asn1.x509.SubjectPublicKeyInfo info) {
          return new JcaPEMKeyConverter().getPublicKey(info);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a public key from " + file, e);
    }
    throw new IllegalArgumentException(file + " holds no PEM PUBLIC KEY");
  }

  /** Reads the first certificate in a PEM file. */
  public static X509Certificate readCertificate(Path file) {
    List<X509Certificate> all = readCertificates(file);
    if (all.isEmpty()) {
      throw new IllegalArgumentException(file + " holds no PEM CERTIFICATE block");
    }
    return all.get(0);
  }

  /** Reads every certificate in a PEM file (a bundle may hold several). */
  public static List<X509Certificate> readCertificates(Path file) {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
      return certificates(r, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read certificates from " + file, e);
    }
  }

  /** Every certificate in PEM text ({@code what} names it in errors, e.g. a kubeconfig field). */
  public static List<X509Certificate> parseCertificates(String pem, String what) {
    try (Reader r = new StringReader(pem)) {
      return certificates(r, what);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read certificates from " + what, e);
    }
  }

  private static List<X509Certificate> certificates(Reader r, String what) throws IOException {
    List<X509Certificate> out = new ArrayList<>();
    try (PEMParser p = new PEMParser(r)) {
      JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof X509CertificateHolder h) {
          out.add(conv.getCertificate(h));
        }
      }
    } catch (CertificateException e) {
      throw new IllegalArgumentException("malformed certificate in " + what, e);
    }
    return out;
  }

  /** Reads the private key in a PEM file (PKCS#8, or the EC/RSA specific forms). */
  public static PrivateKey readKey(Path file) {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
      return key(r, file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a private key from " + file, e);
    }
  }

  /** The private key in PEM text ({@code what} names it in errors). */
  public static PrivateKey parseKey(String pem, String what) {
    try (Reader r = new StringReader(pem)) {
      return key(r, what);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a private key from " + what, e);
    }
  }

  private static PrivateKey key(Reader r, String what) throws IOException {
    try (PEMParser p = new PEMParser(r)) {
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof PrivateKeyInfo info) {
          return conv.getPrivateKey(info);
        }
        if (o instanceof PEMKeyPair pair) {
          return conv.getKeyPair(pair).getPrivate();
        }
      }
    }
    throw new IllegalArgumentException(
        what + " holds no unencrypted PEM private key (PRIVATE KEY, EC or RSA PRIVATE KEY)");
  }

  /** The PKCS#8 PEM text of a private key. */
  static String keyPem(PrivateKey key) {
    return pem("PRIVATE KEY", key.getEncoded());
  }

  static String certificatePem(X509Certificate cert) {
    try {
      return pem("CERTIFICATE", cert.getEncoded());
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode certificate", e);
    }
  }

  private static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  /** Writes through a temporary file with the final mode, then renames it into place. */
  private static void write(Path file, String text, Set<PosixFilePermission> mode) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(mode));
      Files.setPosixFilePermissions(tmp, mode); // the umask may have narrowed it
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}

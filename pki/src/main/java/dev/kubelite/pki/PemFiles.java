package dev.kubelite.pki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * Reads and writes PEM files: certificates ({@code CERTIFICATE}, mode 0644) and private keys
 * (PKCS#8 {@code PRIVATE KEY}, mode 0600), each written atomically. Reading also accepts the {@code
 * EC PRIVATE KEY} and {@code RSA PRIVATE KEY} forms that kubeadm and openssl write. Reading uses
 * the JDK ({@link JdkPem}); BouncyCastle is loaded only for a key the JDK cannot read (decision
 * 0082).
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
    String text = readText(file, "a public key");
    java.security.PublicKey key = JdkPem.publicKey(JdkPem.blocks(text, file.toString()));
    if (key == null && text.contains("-----BEGIN PUBLIC KEY-----")) {
      key = BouncyPem.publicKey(text, file.toString()); // an algorithm the JDK does not read
    }
    if (key == null) {
      throw new IllegalArgumentException(file + " holds no PEM PUBLIC KEY");
    }
    return key;
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
    return parseCertificates(readText(file, "certificates"), file.toString());
  }

  /** Every certificate in PEM text ({@code what} names it in errors, e.g. a kubeconfig field). */
  public static List<X509Certificate> parseCertificates(String pem, String what) {
    return JdkPem.certificates(JdkPem.blocks(pem, what), what);
  }

  /** Reads the private key in a PEM file (PKCS#8, or the EC/RSA specific forms). */
  public static PrivateKey readKey(Path file) {
    return parseKey(readText(file, "a private key"), file.toString());
  }

  /**
   * The private key in PEM text ({@code what} names it in errors): read with the JDK, and only when
   * it cannot (an algorithm or encoding it does not know) with BouncyCastle.
   */
  public static PrivateKey parseKey(String pem, String what) {
    List<JdkPem.Block> blocks = JdkPem.blocks(pem, what);
    PrivateKey key = JdkPem.privateKey(blocks);
    if (key == null) {
      for (JdkPem.Block b : blocks) {
        if (b.type().contains("PRIVATE KEY")) { // a key the JDK could not read: ask BouncyCastle
          key = BouncyPem.privateKey(pem, what);
          break;
        }
      }
    }
    if (key == null) {
      throw new IllegalArgumentException(
          what + " holds no unencrypted PEM private key (PRIVATE KEY, EC or RSA PRIVATE KEY)");
    }
    return key;
  }

  private static String readText(Path file, String what) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + what + " from " + file, e);
    }
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

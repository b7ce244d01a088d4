package dev.kubelite.pki;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * PEM reading with the JDK alone ({@code CertificateFactory}, {@code KeyFactory}), so that a client
 * (kubectl-lite) does not load BouncyCastle to read a kubeconfig's certificates and key: BC's jar
 * is signed, so its classes cannot be kept in a class-data-sharing archive, and loading and
 * verifying them costs a short-lived CLI about a fifth of a second (decision 0082). The key forms
 * users' files carry are all read here: PKCS#8 {@code PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}
 * (kubeadm, kind, {@code openssl ecparam -genkey}) and PKCS#1 {@code RSA PRIVATE KEY} ({@code
 * openssl genrsa -traditional}), the last two re-wrapped into PKCS#8 with a few bytes of DER. A key
 * this reader cannot make sense of yields null, and {@link PemFiles} then asks BouncyCastle.
 */
final class JdkPem {
  private JdkPem() {}

  /** One {@code -----BEGIN type-----} ... {@code -----END type-----} block, decoded. */
  record Block(String type, byte[] der) {}

  /** A PEM block whose base64 body cannot be decoded. */
  static final class MalformedPemException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    MalformedPemException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Every PEM block in the text, in order; text outside blocks is ignored (as openssl and BC do).
   * Headers inside a block ({@code Proc-Type: 4,ENCRYPTED}) are kept out of the body and mark the
   * block's type with a trailing {@code " (encrypted)"}, which no caller accepts.
   */
  static List<Block> blocks(String pem, String what) {
    List<Block> out = new ArrayList<>();
    int at = 0;
    while (true) {
      int begin = pem.indexOf("-----BEGIN ", at);
      if (begin < 0) {
        return out;
      }
      int typeEnd = pem.indexOf("-----", begin + 11);
      if (typeEnd < 0) {
        throw new MalformedPemException(what + ": a PEM BEGIN line is not closed by -----", null);
      }
      String type = pem.substring(begin + 11, typeEnd);
      String endLine = "-----END " + type + "-----";
      int end = pem.indexOf(endLine, typeEnd + 5);
      if (end < 0) {
        throw new MalformedPemException(
            what + ": the PEM " + type + " block has no END line", null);
      }
      String body = pem.substring(typeEnd + 5, end);
      boolean encrypted = false;
      if (body.indexOf(':') >= 0) { // RFC 1421 headers, then an empty line, then the body
        encrypted = body.contains("ENCRYPTED");
        int blank = body.indexOf("\n\n");
        if (blank < 0) {
          blank = body.indexOf("\r\n\r\n");
        }
        body = blank < 0 ? "" : body.substring(blank);
      }
      try {
        StringBuilder b64 = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
          char c = body.charAt(i);
          if (!Character.isWhitespace(c)) {
            b64.append(c);
          }
        }
        byte[] der = Base64.getDecoder().decode(b64.toString()); // strict: no junk skipped
        out.add(new Block(encrypted ? type + " (encrypted)" : type, der));
      } catch (IllegalArgumentException e) {
        throw new MalformedPemException(
            what + ": the PEM " + type + " block is not valid base64", e);
      }
      at = end + endLine.length();
    }
  }

  /** The {@code CERTIFICATE} blocks' certificates, in order. */
  static List<X509Certificate> certificates(List<Block> blocks, String what) {
    List<X509Certificate> out = new ArrayList<>();
    CertificateFactory cf = null;
    for (Block b : blocks) {
      if (!b.type().equals("CERTIFICATE")) {
        continue;
      }
      try {
        if (cf == null) {
          cf = CertificateFactory.getInstance("X.509");
        }
        out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der())));
      } catch (CertificateException e) {
        throw new IllegalArgumentException("malformed certificate in " + what, e);
      }
    }
    return out;
  }

  /**
   * The first private key among the blocks, or null when there is none this reader understands (an
   * algorithm or encoding the JDK cannot read, an encrypted key).
   */
  static PrivateKey privateKey(List<Block> blocks) {
    for (Block b : blocks) {
      try {
        switch (b.type()) {
          case "PRIVATE KEY":
            return pkcs8(b.der());
          case "EC PRIVATE KEY":
            return ecSec1(b.der());
          case "RSA PRIVATE KEY":
            return KeyFactory.getInstance("RSA")
                .generatePrivate(
                    new PKCS8EncodedKeySpec(wrapPkcs8(RSA_ENCRYPTION_ALGORITHM, b.der())));
          default:
            break; // EC PARAMETERS, certificates, ...: not a key
        }
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        return null; // let BouncyCastle try, and word the error if it cannot either
      }
    }
    return null;
  }

  /** The first {@code PUBLIC KEY} (X.509 SubjectPublicKeyInfo), or null. */
  static PublicKey publicKey(List<Block> blocks) {
    for (Block b : blocks) {
      if (b.type().equals("PUBLIC KEY")) {
        try {
          Der spki = new Der(b.der());
          Der seq = spki.sequence();
          String alg = algorithmName(seq.sequence().oid());
          return alg == null
              ? null
              : KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(b.der()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
          return null;
        }
      }
    }
    return null;
  }

  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    Der info = new Der(der).sequence();
    info.skip(); // version
    String alg = algorithmName(info.sequence().oid());
    if (alg == null) {
      return null;
    }
    return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
  }

  /**
   * SEC1 (RFC 5915) {@code ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0]
   * parameters (the named curve's OID), [1] publicKey }} into PKCS#8 with the curve's OID.
   */
  private static PrivateKey ecSec1(byte[] der) throws GeneralSecurityException {
    Der key = new Der(der).sequence();
    key.skip(); // version
    key.skip(); // privateKey
    byte[] curve = null;
    while (key.more()) {
      int tag = key.peekTag();
      byte[] content = key.next();
      if (tag == 0xA0) {
        Der params = new Der(content);
        if (params.peekTag() == 0x06) {
          curve = params.rawNext(); // the named curve's OID, tag and length included
        }
      }
    }
    if (curve == null) {
      return null; // explicit curve parameters or none: BouncyCastle's business
    }
    byte[] algorithm = sequence(EC_PUBLIC_KEY_OID, curve);
    return KeyFactory.getInstance("EC")
        .generatePrivate(new PKCS8EncodedKeySpec(wrapPkcs8(algorithm, der)));
  }

  /** {@code PrivateKeyInfo ::= SEQUENCE { INTEGER 0, algorithm, OCTET STRING privateKey }}. */
  private static byte[] wrapPkcs8(byte[] algorithm, byte[] privateKey) {
    return sequence(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, privateKey));
  }

  /** The KeyFactory algorithm of a key's AlgorithmIdentifier OID (its DER content), or null. */
  private static String algorithmName(byte[] oid) {
    String dotted = dotted(oid);
    switch (dotted) {
      case "1.2.840.113549.1.1.1":
        return "RSA";
      case "1.2.840.113549.1.1.10":
        return "RSASSA-PSS";
      case "1.2.840.10045.2.1":
        return "EC";
      case "1.3.101.112":
        return "Ed25519";
      case "1.3.101.113":
        return "Ed448";
      case "1.3.101.110":
        return "X25519";
      case "1.3.101.111":
        return "X448";
      case "1.2.840.10040.4.1":
        return "DSA";
      default:
        return null;
    }
  }

  private static String dotted(byte[] oid) {
    if (oid.length == 0) {
      return "";
    }
    StringBuilder s = new StringBuilder();
    int first = oid[0] & 0xff;
    s.append(Math.min(first / 40, 2)).append('.').append(first - 40 * Math.min(first / 40, 2));
    long v = 0;
    for (int i = 1; i < oid.length; i++) {
      v = (v << 7) | (oid[i] & 0x7f);
      if ((oid[i] & 0x80) == 0) {
        s.append('.').append(v);
        v = 0;
      }
    }
    return s.toString();
  }

  /** DER of {@code 1.2.840.10045.2.1} (id-ecPublicKey), tag and length included. */
  private static final byte[] EC_PUBLIC_KEY_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  /** DER of the AlgorithmIdentifier {@code SEQUENCE { rsaEncryption, NULL }}. */
  private static final byte[] RSA_ENCRYPTION_ALGORITHM = {
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  private static byte[] sequence(byte[]... parts) {
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      content.writeBytes(p);
    }
    return tlv(0x30, content.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(n >>> (8 * i));
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  /** A cursor over DER elements (definite lengths only, as DER requires). */
  private static final class Der {
    private final byte[] b;
    private int at;
    private final int end;

    Der(byte[] b) {
      this(b, 0, b.length);
    }

    private Der(byte[] b, int from, int end) {
      this.b = b;
      this.at = from;
      this.end = end;
    }

    boolean more() {
      return at < end;
    }

    int peekTag() {
      need(1);
      return b[at] & 0xff;
    }

    /** Enters the next element, which must be a SEQUENCE. */
    Der sequence() {
      if (peekTag() != 0x30) {
        throw new IllegalArgumentException("DER: expected a SEQUENCE");
      }
      int[] r = header();
      at = r[0] + r[1];
      return new Der(b, r[0], r[0] + r[1]);
    }

    /** The next element's content, which must be an OBJECT IDENTIFIER. */
    byte[] oid() {
      if (peekTag() != 0x06) {
        throw new IllegalArgumentException("DER: expected an OBJECT IDENTIFIER");
      }
      return next();
    }

    void skip() {
      next();
    }

    /** The next element's content. */
    byte[] next() {
      int[] r = header();
      at = r[0] + r[1];
      return java.util.Arrays.copyOfRange(b, r[0], r[0] + r[1]);
    }

    /** The next element whole: tag, length and content. */
    byte[] rawNext() {
      int from = at;
      int[] r = header();
      at = r[0] + r[1];
      return java.util.Arrays.copyOfRange(b, from, at);
    }

    /** Reads a tag and length at the cursor: {content offset, content length}. */
    private int[] header() {
      need(2);
      int p = at + 1;
      int len = b[p++] & 0xff;
      if (len >= 0x80) {
        int n = len & 0x7f;
        if (n == 0 || n > 4) {
          throw new IllegalArgumentException("DER: unsupported length encoding");
        }
        if (p + n > end) {
          throw new IllegalArgumentException("DER: truncated length");
        }
        len = 0;
        for (int i = 0; i < n; i++) {
          len = (len << 8) | (b[p++] & 0xff);
        }
        if (len < 0) {
          throw new IllegalArgumentException("DER: length too large");
        }
      }
      if (p + len > end) {
        throw new IllegalArgumentException("DER: truncated element");
      }
      return new int[] {p, len};
    }

    private void need(int n) {
      if (at + n > end) {
        throw new IllegalArgumentException("DER: truncated");
      }
    }
  }
}

package dev.kubelite.pki;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager holding one certificate chain and its key, chosen as the JDK's {@code SunX509} key
 * manager chooses (the key's algorithm must be one the peer accepts and, when the peer names the
 * issuers it trusts, one of the chain's certificates must be issued by one of them). It replaces a
 * {@code PKCS12} key store plus {@code KeyManagerFactory}, which encrypts the key with PBKDF2
 * (10,000 rounds) only to decrypt it again at once: a noticeable part of a short CLI run (decision
 * 0082).
 */
final class FixedKeyManager extends X509ExtendedKeyManager {
  static final String ALIAS = "key";

  private final X509Certificate[] chain;
  private final PrivateKey key;

  FixedKeyManager(X509Certificate[] chain, PrivateKey key) {
    if (chain.length == 0) {
      throw new IllegalArgumentException("a key manager needs at least one certificate");
    }
    this.chain = chain.clone();
    this.key = key;
  }

  /**
   * Whether this key fits {@code keyType} ({@code "EC"}, {@code "RSA"}, or {@code "EC_EC"}-style
   * key type plus the algorithm of the certificate's signer) and the peer's trusted issuers.
   */
  private boolean fits(String keyType, Principal[] issuers) {
    if (keyType == null) {
      return false;
    }
    String type = keyType;
    String signer = null;
    int u = keyType.indexOf('_');
    if (u >= 0) {
      type = keyType.substring(0, u);
      signer = keyType.substring(u + 1);
    }
    if (!key.getAlgorithm().equals(type)) {
      return false;
    }
    if (signer != null) {
      if (chain.length > 1) { // the issuer's key algorithm, when the chain has the issuer
        if (!signer.equals(chain[1].getPublicKey().getAlgorithm())) {
          return false;
        }
      } else {
        String sigAlg = chain[0].getSigAlgName().toUpperCase(java.util.Locale.ROOT);
        if (!sigAlg.contains("WITH" + signer.toUpperCase(java.util.Locale.ROOT))) {
          return false;
        }
      }
    }
    if (issuers == null || issuers.length == 0) {
      return true;
    }
    for (X509Certificate c : chain) {
      for (Principal p : issuers) {
        if (c.getIssuerX500Principal().equals(p)) {
          return true;
        }
      }
    }
    return false;
  }

  private String[] aliases(String keyType, Principal[] issuers) {
    return fits(keyType, issuers) ? new String[] {ALIAS} : null;
  }

  private String choose(String[] keyTypes, Principal[] issuers) {
    if (keyTypes != null) {
      for (String t : keyTypes) {
        if (fits(t, issuers)) {
          return ALIAS;
        }
      }
    }
    return null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return aliases(keyType, issuers);
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return choose(keyTypes, issuers);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return choose(keyTypes, issuers);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return aliases(keyType, issuers);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return fits(keyType, issuers) ? ALIAS : null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return fits(keyType, issuers) ? ALIAS : null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? chain.clone() : null;
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? key : null;
  }
}

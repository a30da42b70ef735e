package io.bcache.transport;

import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Collections;
import java.util.Objects;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;

/**
 * Mutual TLS for peer connections: every node presents its certificate from its key store, and
 * accepts a peer only if the peer's certificate chains to one its trust store holds, whichever
 * side dialed. TLS 1.3 only. The peer's host name is not checked against its certificate: peers
 * are reached at the addresses they publish themselves, so the trust store is what decides
 * (hold only the cluster's own certificate or CA in it, never a public one).
 */
public final class PeerTls {

  /** The only protocol offered or accepted. */
  static final String PROTOCOL = "TLSv1.3";

  private final SSLContext context;

  private PeerTls(SSLContext context) {
    this.context = context;
  }

  /**
   * TLS from key store files (PKCS12 or JKS, recognised by their content).
   *
   * @param keyStore this node's private key and certificate chain; the key's password is the
   *     store's
   * @param trustStore the certificates a peer's chain must lead to; {@code null} for the
   *     certificates in {@code keyStore} (every node sharing one certificate, or a key store
   *     holding the cluster's CA)
   * @throws IllegalArgumentException naming the file that cannot be read, or why its content
   *     cannot serve
   */
  public static PeerTls fromKeyStores(Path keyStore, char[] keyStorePassword, Path trustStore,
      char[] trustStorePassword) {
    Objects.requireNonNull(keyStore, "keyStore");
    KeyStore keys = load(keyStore, keyStorePassword);
    KeyStore trusted = trustStore == null ? keys : load(trustStore, trustStorePassword);
    try {
      if (!hasKeyEntry(keys)) {
        throw new IllegalArgumentException("key store " + keyStore + " holds no private key");
      }
      if (trusted.size() == 0) {
        throw new IllegalArgumentException("trust store " + trustStore + " holds no certificate: no peer could connect");
      }
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, keyStorePassword);
      TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trusted);
      SSLContext context = SSLContext.getInstance(PROTOCOL);
      context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
      return new PeerTls(context);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("TLS cannot use key store " + keyStore
          + (trustStore == null ? "" : " and trust store " + trustStore) + ": " + e.getMessage(), e);
    }
  }

  /**
   * A TLS handler for a new connection: the client side of the TLS handshake on a connection
   * this node dialed, the server side (asking for the peer's certificate) on one it accepted.
   */
  SslHandler newHandler(boolean dialed, Duration handshakeTimeout) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(dialed);
    engine.setEnabledProtocols(new String[] {PROTOCOL});
    if (!dialed) {
      engine.setNeedClientAuth(true);
    }
    SslHandler handler = new SslHandler(engine);
    handler.setHandshakeTimeoutMillis(handshakeTimeout.toMillis());
    return handler;
  }

  private static KeyStore load(Path file, char[] password) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException("key store " + file + " does not exist or cannot be read");
    }
    try {
      return KeyStore.getInstance(file.toFile(), password);
    } catch (IOException | GeneralSecurityException e) {
      // a wrong password surfaces as an IOException whose cause says so
      Throwable reason = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException("key store " + file + " cannot be opened: " + reason.getMessage(), e);
    }
  }

  private static boolean hasKeyEntry(KeyStore store) throws GeneralSecurityException {
    for (String alias : Collections.list(store.aliases())) {
      if (store.isKeyEntry(alias)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "PeerTls{" + PROTOCOL + ", mutual}";
  }
}

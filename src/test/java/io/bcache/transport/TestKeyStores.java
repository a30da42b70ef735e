package io.bcache.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Key stores for TLS tests, made once per JVM with the JDK's own {@code keytool}: a cluster
 * certificate every good node shares (its key store also trusts it), a rogue self-signed one no
 * node trusts, and a trust store holding only the cluster certificate.
 */
public final class TestKeyStores {

  /** The password of every store made here. */
  public static final String PASSWORD = "changeit";

  private static TestKeyStores instance;

  private final Path cluster;
  private final Path rogue;
  private final Path clusterTrust;

  private TestKeyStores(Path dir) throws IOException, InterruptedException {
    cluster = dir.resolve("cluster.p12");
    rogue = dir.resolve("rogue.p12");
    clusterTrust = dir.resolve("cluster-trust.p12");
    Path certificate = dir.resolve("cluster.pem");
    keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "30",
        "-dname", "CN=bcache test cluster", "-keystore", cluster.toString());
    keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "30",
        "-dname", "CN=bcache rogue node", "-keystore", rogue.toString());
    keytool("-exportcert", "-alias", "node", "-rfc", "-file", certificate.toString(), "-keystore", cluster.toString());
    keytool("-importcert", "-noprompt", "-alias", "cluster", "-file", certificate.toString(),
        "-keystore", clusterTrust.toString());
  }

  /** The stores, made on first use. */
  public static synchronized TestKeyStores get() {
    if (instance == null) {
      try {
        Path dir = Files.createTempDirectory("bcache-tls");
        dir.toFile().deleteOnExit();
        instance = new TestKeyStores(dir);
        try (var files = Files.list(dir)) {
          files.forEach(f -> f.toFile().deleteOnExit());
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot make test key stores", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted making test key stores", e);
      }
    }
    return instance;
  }

  /** The key and certificate every good node shares; it trusts that certificate. */
  public Path cluster() {
    return cluster;
  }

  /** A self-signed key and certificate nobody else trusts. */
  public Path rogue() {
    return rogue;
  }

  /** A trust store holding only the cluster certificate. */
  public Path clusterTrust() {
    return clusterTrust;
  }

  /** A good node's TLS: the cluster key, trusting the cluster certificate. */
  public PeerTls clusterTls() {
    return PeerTls.fromKeyStores(cluster, PASSWORD.toCharArray(), null, null);
  }

  /** The rogue key, trusting the cluster certificate: it trusts the cluster, not the reverse. */
  public PeerTls rogueTls() {
    return PeerTls.fromKeyStores(rogue, PASSWORD.toCharArray(), clusterTrust, PASSWORD.toCharArray());
  }

  private static void keytool(String... arguments) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(arguments));
    command.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getOutputStream().close();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IOException("keytool " + String.join(" ", arguments) + " failed: "
          + new String(output, StandardCharsets.UTF_8));
    }
  }
}

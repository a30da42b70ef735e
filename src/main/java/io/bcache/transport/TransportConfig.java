package io.bcache.transport;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings of one {@link PeerTransport}: who this node is, where it listens, and the limits
 * that protect it from its peers. Immutable; built with {@link #builder(long, String)}.
 */
public final class TransportConfig {

  /** The longest cluster name, in UTF-8 bytes; it travels in every handshake. */
  public static final int MAX_CLUSTER_NAME_BYTES = 255;

  private final long nodeId;
  private final String clusterName;
  private final byte[] secret;
  private final PeerTls tls;
  private final String bindHost;
  private final int bindPort;
  private final int maxFrameSize;
  private final Duration handshakeTimeout;
  private final Duration reconnectBackoffMin;
  private final Duration reconnectBackoffMax;
  private final int writeHighWaterMark;
  private final Duration heartbeatInterval;
  private final Duration idleTimeout;
  private final Duration closeTimeout;

  private TransportConfig(Builder b) {
    this.nodeId = b.nodeId;
    this.clusterName = b.clusterName;
    this.secret = b.secret;
    this.tls = b.tls;
    this.bindHost = b.bindHost;
    this.bindPort = b.bindPort;
    this.maxFrameSize = b.maxFrameSize;
    this.handshakeTimeout = b.handshakeTimeout;
    this.reconnectBackoffMin = b.reconnectBackoffMin;
    this.reconnectBackoffMax = b.reconnectBackoffMax;
    this.writeHighWaterMark = b.writeHighWaterMark;
    this.heartbeatInterval = b.heartbeatInterval;
    this.idleTimeout = b.idleTimeout;
    this.closeTimeout = b.closeTimeout;
  }

  /**
   * Starts a configuration for the node {@code nodeId} in the cluster {@code clusterName}.
   *
   * @throws IllegalArgumentException if the cluster name is empty or longer than
   *     {@value #MAX_CLUSTER_NAME_BYTES} UTF-8 bytes
   */
  public static Builder builder(long nodeId, String clusterName) {
    return new Builder(nodeId, clusterName);
  }

  /** This node's id; unique in the cluster. */
  public long nodeId() {
    return nodeId;
  }

  /** The cluster name; peers with another name are rejected. */
  public String clusterName() {
    return clusterName;
  }

  /** The shared secret peers must prove they know, if one is configured. */
  public Optional<byte[]> secret() {
    return Optional.ofNullable(secret).map(byte[]::clone);
  }

  boolean hasSecret() {
    return secret != null;
  }

  byte[] secretBytes() {
    return secret;
  }

  /** TLS for every connection, if configured; without it peers talk in the clear. */
  public Optional<PeerTls> tls() {
    return Optional.ofNullable(tls);
  }

  /** The host or address the transport listens on. */
  public String bindHost() {
    return bindHost;
  }

  /** The port the transport listens on; 0 picks any free port. */
  public int bindPort() {
    return bindPort;
  }

  /** This node's id as logs, thread names, ZooKeeper and the cluster MXBean show it. */
  String nodeName() {
    return nodeName(nodeId);
  }

  /** A node id as logs show it: 16 lowercase hex digits. */
  static String nodeName(long nodeId) {
    return HexFormat.of().toHexDigits(nodeId);
  }

  /** The largest payload a frame may carry, in bytes; a peer declaring more is disconnected. */
  public int maxFrameSize() {
    return maxFrameSize;
  }

  /** How long a connection may take to authenticate before it is closed. */
  public Duration handshakeTimeout() {
    return handshakeTimeout;
  }

  /** The first delay before redialing a peer; it doubles after every failure. */
  public Duration reconnectBackoffMin() {
    return reconnectBackoffMin;
  }

  /** The longest delay between two dials of one peer. */
  public Duration reconnectBackoffMax() {
    return reconnectBackoffMax;
  }

  /**
   * Bytes queued for one peer above which {@link PeerTransport#send} refuses more; sending
   * resumes once the queue drains to half of it.
   */
  public int writeHighWaterMark() {
    return writeHighWaterMark;
  }

  /** After this long without writing, a connection sends an empty heartbeat frame. */
  public Duration heartbeatInterval() {
    return heartbeatInterval;
  }

  /** After this long without reading anything, a connection is considered dead and closed. */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** How long {@link PeerTransport#close()} waits for queued frames to be written. */
  public Duration closeTimeout() {
    return closeTimeout;
  }

  @Override
  public String toString() {
    return "TransportConfig{nodeId=" + nodeId + ", cluster=" + clusterName
        + ", secret=" + (secret != null ? "<set>" : "<none>") + ", tls=" + (tls != null ? PeerTls.PROTOCOL : "<none>")
        + ", bind=" + bindHost + ":" + bindPort
        + ", maxFrameSize=" + maxFrameSize + ", handshakeTimeout=" + handshakeTimeout
        + ", backoff=" + reconnectBackoffMin + ".." + reconnectBackoffMax
        + ", writeHighWaterMark=" + writeHighWaterMark + ", heartbeat=" + heartbeatInterval
        + ", idleTimeout=" + idleTimeout + "}";
  }

  /** Builds a {@link TransportConfig}; every setting but the node id and cluster has a default. */
  public static final class Builder {

    private final long nodeId;
    private final String clusterName;
    private byte[] secret;
    private PeerTls tls;
    private String bindHost = "127.0.0.1";
    private int bindPort;
    private int maxFrameSize = 16 * 1024 * 1024;
    private Duration handshakeTimeout = Duration.ofSeconds(5);
    private Duration reconnectBackoffMin = Duration.ofMillis(100);
    private Duration reconnectBackoffMax = Duration.ofSeconds(10);
    private int writeHighWaterMark = 8 * 1024 * 1024;
    private Duration heartbeatInterval = Duration.ofSeconds(1);
    private Duration idleTimeout = Duration.ofSeconds(10);
    private Duration closeTimeout = Duration.ofSeconds(2);

    private Builder(long nodeId, String clusterName) {
      Objects.requireNonNull(clusterName, "clusterName");
      int length = clusterName.getBytes(StandardCharsets.UTF_8).length;
      if (length == 0 || length > MAX_CLUSTER_NAME_BYTES) {
        throw new IllegalArgumentException(
            "cluster name must be 1 to " + MAX_CLUSTER_NAME_BYTES + " UTF-8 bytes: '" + clusterName + "'");
      }
      this.nodeId = nodeId;
      this.clusterName = clusterName;
    }

    /** The shared secret as UTF-8; {@code null} for none. */
    public Builder secret(String secret) {
      return secret(secret == null ? null : secret.getBytes(StandardCharsets.UTF_8));
    }

    /** The shared secret; {@code null} for none. An empty secret is refused. */
    public Builder secret(byte[] secret) {
      if (secret != null && secret.length == 0) {
        throw new IllegalArgumentException("secret must not be empty");
      }
      this.secret = secret == null ? null : Arrays.copyOf(secret, secret.length);
      return this;
    }

    /** TLS for every connection; {@code null} for none. */
    public Builder tls(PeerTls tls) {
      this.tls = tls;
      return this;
    }

    /** Where to listen; port 0 picks any free port. */
    public Builder bind(String host, int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.bindHost = Objects.requireNonNull(host, "host");
      this.bindPort = port;
      return this;
    }

    /** The largest frame either way, at most {@code Integer.MAX_VALUE} less the length prefix. */
    public Builder maxFrameSize(int bytes) {
      if (bytes > Integer.MAX_VALUE - FrameDecoder.HEADER_BYTES) {
        // a frame and its prefix must fit one int, or the decoder's arithmetic overflows
        throw new IllegalArgumentException("maxFrameSize is larger than a frame can be: " + bytes);
      }
      this.maxFrameSize = positive("maxFrameSize", bytes);
      return this;
    }

    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = positive("handshakeTimeout", timeout);
      return this;
    }

    public Builder reconnectBackoff(Duration min, Duration max) {
      positive("reconnectBackoffMin", min);
      positive("reconnectBackoffMax", max);
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException("reconnect backoff max " + max + " < min " + min);
      }
      this.reconnectBackoffMin = min;
      this.reconnectBackoffMax = max;
      return this;
    }

    public Builder writeHighWaterMark(int bytes) {
      this.writeHighWaterMark = positive("writeHighWaterMark", bytes);
      return this;
    }

    /**
     * How often an otherwise quiet connection sends a heartbeat, and how long it may stay silent
     * before it is closed; the timeout must exceed the interval.
     */
    public Builder heartbeat(Duration interval, Duration idleTimeout) {
      positive("heartbeatInterval", interval);
      positive("idleTimeout", idleTimeout);
      if (idleTimeout.compareTo(interval) <= 0) {
        throw new IllegalArgumentException("idle timeout " + idleTimeout + " must exceed heartbeat " + interval);
      }
      this.heartbeatInterval = interval;
      this.idleTimeout = idleTimeout;
      return this;
    }

    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = positive("closeTimeout", timeout);
      return this;
    }

    public TransportConfig build() {
      return new TransportConfig(this);
    }

    private static int positive(String name, int value) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }
  }
}

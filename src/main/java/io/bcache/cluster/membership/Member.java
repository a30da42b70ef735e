package io.bcache.cluster.membership;

import io.bcache.config.HostPort;

/**
 * A cluster node as published in ZooKeeper: who it is and where its peers reach it.
 *
 * @param nodeId the node's id, unique for one process start
 * @param host the host peers connect to (a name, an IPv4 or an IPv6 literal without brackets)
 * @param port the port peers connect to, from 1 to 65535
 * @param protocolVersion the peer protocol version the node speaks, at least 1
 */
public record Member(long nodeId, String host, int port, int protocolVersion) {

  /** @throws IllegalArgumentException if a field is out of its range */
  public Member {
    if (!HostPort.isValidHost(host)) {
      throw new IllegalArgumentException("host must be a host name or an address, was '" + host + "'");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("port must be from 1 to 65535, was " + port);
    }
    if (protocolVersion < 1) {
      throw new IllegalArgumentException("protocolVersion must be at least 1, was " + protocolVersion);
    }
  }

  @Override
  public String toString() {
    return MemberCodec.nodeName(nodeId) + "@" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host)
        + ":" + port + "/v" + protocolVersion;
  }
}

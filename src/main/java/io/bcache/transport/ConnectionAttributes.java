package io.bcache.transport;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/** What a channel knows about its peer, kept as channel attributes. */
final class ConnectionAttributes {

  /** Set on channels this node dialed: the node it meant to reach. */
  static final AttributeKey<Long> DIALED_PEER = AttributeKey.valueOf("bcache.dialedPeer");
  /** The peer's node id, once its HELLO was accepted. */
  static final AttributeKey<Long> PEER_ID = AttributeKey.valueOf("bcache.peerId");
  /** The node that dialed this connection: this node or the peer. */
  static final AttributeKey<Long> DIALER_ID = AttributeKey.valueOf("bcache.dialerId");
  /** Set once the connection failed and is closing: nothing it still carries is read. */
  static final AttributeKey<Boolean> FAILED = AttributeKey.valueOf("bcache.failed");

  private ConnectionAttributes() {
  }

  /** Whether this node dialed {@code channel}, as opposed to accepting it. */
  static boolean dialedByThisNode(Channel channel) {
    return channel.attr(DIALED_PEER).get() != null; // (not hasAttr: reading an attribute creates it)
  }

  /** "to 127.0.0.1:4000" or "from 127.0.0.1:51234": which end opened it and where it leads. */
  static String describe(Channel channel) {
    Long dialed = channel.attr(DIALED_PEER).get();
    Long peer = channel.attr(PEER_ID).get();
    String remote = String.valueOf(channel.remoteAddress());
    String who = peer != null ? " (node " + TransportConfig.nodeName(peer) + ")" : "";
    return (dialed != null ? "to " : "from ") + remote + who;
  }
}

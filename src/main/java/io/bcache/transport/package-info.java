/**
 * The peer-to-peer transport: authenticated, length-framed payloads between the nodes of one
 * cluster, over TCP with Netty ({@code byte[]} out; in, a view of the receive buffer, valid
 * while the listener runs). It knows nothing of caches, replication messages
 * or membership; {@link io.bcache.transport.PeerTransport} is its entry point.
 *
 * <h2>Wire protocol, version 1</h2>
 *
 * <p>Every frame is a 4-byte big-endian length, then that many payload bytes. A declared length
 * above the limit closes the connection at once; the limit is 303 bytes (the largest HELLO)
 * until the peer is authenticated, then the configured max frame size.
 *
 * <p>A connection starts with a handshake; nothing else is accepted before it completes:
 *
 * <ol>
 *   <li>Both sides send HELLO: {@code "BCH1"}, version (u16), flags (u8, bit 0 = a PROOF
 *       follows), cluster name length (u8) and UTF-8 bytes, node id (i64), 32-byte random
 *       nonce. Each side checks the magic, the version, the cluster name, that the node id is
 *       not its own (and is the one it dialed), and that both or neither have a secret.
 *   <li>With a secret, both sides send PROOF: HMAC-SHA256(secret, {@code "bcache-auth"} |
 *       cluster length (u8) | cluster | own id | own nonce | peer nonce | peer id), 32 bytes,
 *       and verify the other's in constant time.
 *   <li>The side with the lower node id decides whether this connection is the pair's one
 *       connection and, if so, sends ACCEPT ({@code "BCOK"}); the other side waits for it.
 * </ol>
 *
 * <p>After that, payload frames flow both ways; an empty frame is a heartbeat. Any violation
 * closes that connection only, logged as one line.
 */
package io.bcache.transport;

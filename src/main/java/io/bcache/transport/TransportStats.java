package io.bcache.transport;

/**
 * A snapshot of a {@link PeerTransport}'s counters, for metrics.
 *
 * @param rejectedConnections connections closed for a protocol violation or a failed handshake
 * @param bytesSent bytes written to sockets, framing and handshakes included
 * @param bytesReceived bytes read from sockets, framing and handshakes included
 * @param framesSent payload frames accepted by {@link PeerTransport#send} (heartbeats and handshakes
 *     excluded); a frame accepted just before its connection broke is counted but never arrives
 * @param framesReceived payload frames delivered to the listener
 */
public record TransportStats(
    long rejectedConnections, long bytesSent, long bytesReceived, long framesSent, long framesReceived) {
}

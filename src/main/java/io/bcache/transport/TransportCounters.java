package io.bcache.transport;

import java.util.concurrent.atomic.LongAdder;

/** The live counters behind {@link TransportStats}; updated on the I/O threads. */
final class TransportCounters {

  final LongAdder rejectedConnections = new LongAdder();
  final LongAdder bytesSent = new LongAdder();
  final LongAdder bytesReceived = new LongAdder();
  final LongAdder framesSent = new LongAdder();
  final LongAdder framesReceived = new LongAdder();

  TransportStats snapshot() {
    return new TransportStats(rejectedConnections.sum(), bytesSent.sum(), bytesReceived.sum(),
        framesSent.sum(), framesReceived.sum());
  }
}

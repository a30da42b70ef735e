package io.bcache.store;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded multi-producer, single-consumer ring of writes waiting to be applied to the recency
 * list. Writers hand their change over here and move on; whoever holds the eviction lock
 * applies them, so writers do not queue up (and park) behind that lock.
 */
final class WriteBuffer {

  /** One write: {@code current} replaced {@code previous} (either may be null). */
  record Write(Object key, StoreEntry previous, StoreEntry current) {
  }

  private static final int CAPACITY = 1024; // power of two

  private final AtomicReferenceArray<Write> slots = new AtomicReferenceArray<>(CAPACITY);
  private final AtomicLong tail = new AtomicLong();
  private volatile long head; // written only by the consumer, under the eviction lock

  /** Adds a write; false if the buffer is full (the caller must drain it itself). */
  boolean offer(Write write) {
    for (;;) {
      long t = tail.get();
      if (t - head >= CAPACITY) {
        return false;
      }
      if (tail.compareAndSet(t, t + 1)) {
        slots.set((int) t & (CAPACITY - 1), write);
        return true;
      }
    }
  }

  /** How many writes were offered and not drained yet (a snapshot). */
  int size() {
    return (int) (tail.get() - head);
  }

  /** Whether writes were offered that have not been drained yet. */
  boolean isEmpty() {
    return head == tail.get();
  }

  /**
   * Hands every published write, in order, to {@code sink}. Stops at a slot that a producer has
   * claimed but not yet filled; that producer will see the buffer non-empty and drain again.
   * Caller holds the eviction lock.
   */
  void drainTo(java.util.function.Consumer<Write> sink) {
    long h = head;
    long t = tail.get();
    while (h < t) {
      int index = (int) h & (CAPACITY - 1);
      Write write = slots.get(index);
      if (write == null) {
        break;
      }
      slots.lazySet(index, null);
      sink.accept(write);
      h++;
    }
    head = h;
  }
}

package io.bcache.replication;

import java.util.NoSuchElementException;

/**
 * A double-ended queue of changes with access by position, growing by doubling. Unbounded itself:
 * its owners bound it.
 */
final class ChangeRing {

  private Change[] items = new Change[16];
  private int head;
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void addLast(Change change) {
    if (size == items.length) {
      grow();
    }
    items[(head + size) & (items.length - 1)] = change;
    size++;
  }

  Change first() {
    if (size == 0) {
      throw new NoSuchElementException();
    }
    return items[head];
  }

  Change last() {
    if (size == 0) {
      throw new NoSuchElementException();
    }
    return items[(head + size - 1) & (items.length - 1)];
  }

  Change removeFirst() {
    Change first = first();
    items[head] = null;
    head = (head + 1) & (items.length - 1);
    size--;
    return first;
  }

  /** The change at {@code index} from the first. */
  Change get(int index) {
    if (index < 0 || index >= size) {
      throw new IndexOutOfBoundsException(index);
    }
    return items[(head + index) & (items.length - 1)];
  }

  void clear() {
    items = new Change[16];
    head = 0;
    size = 0;
  }

  private void grow() {
    Change[] bigger = new Change[items.length * 2];
    for (int i = 0; i < size; i++) {
      bigger[i] = items[(head + i) & (items.length - 1)];
    }
    items = bigger;
    head = 0;
  }
}

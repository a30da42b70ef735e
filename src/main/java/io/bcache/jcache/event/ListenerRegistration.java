package io.bcache.jcache.event;

import io.bcache.jcache.Closeables;
import java.util.List;
import java.util.concurrent.Executor;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Factory;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEventFilter;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.event.CacheEntryListener;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One registered listener: its configuration, the listener and filter it made, and how to call them. */
final class ListenerRegistration<K, V> {

  private static final Logger LOG = LoggerFactory.getLogger(ListenerRegistration.class);

  private final CacheEntryListenerConfiguration<K, V> configuration;
  private final CacheEntryListener<? super K, ? super V> listener;
  private final CacheEntryEventFilter<? super K, ? super V> filter;
  /** The deliveries no operation waits for, one at a time, in the order their places were taken. */
  private final EventQueue queue;
  /**
   * Read once: the configuration is the caller's object, which it may change after registering.
   */
  private final boolean synchronous;
  /** For a synchronous listener: the order of each key's deliveries on the writing threads. */
  private final KeyTurns turns;

  @SuppressWarnings("unchecked")
  ListenerRegistration(CacheEntryListenerConfiguration<K, V> configuration, Executor executor) {
    this.configuration = configuration;
    this.listener = configuration.getCacheEntryListenerFactory().create();
    Factory<CacheEntryEventFilter<? super K, ? super V>> filterFactory =
        configuration.getCacheEntryEventFilterFactory();
    this.filter = filterFactory == null ? null : filterFactory.create();
    this.queue = new EventQueue(executor);
    this.synchronous = configuration.isSynchronous();
    this.turns = synchronous ? new KeyTurns() : null;
  }

  CacheEntryListenerConfiguration<K, V> configuration() {
    return configuration;
  }

  boolean isSynchronous() {
    return synchronous;
  }

  /** Takes the place of an operation's events in this listener's queue (under the key's lock). */
  EventQueue.Place take() {
    return queue.take();
  }

  /** Gives a place its events, delivered later on this listener's queue; a failure is logged. */
  void fill(EventQueue.Place place, List<BCacheEntryEvent<K, V>> events) {
    queue.fill(place, wantsAny(events) ? () -> deliverLogged(events) : null);
  }

  /**
   * Takes the turn of an operation made here on {@code key} among the key's deliveries to this
   * synchronous listener (under the key's lock).
   */
  KeyTurns.Turn takeTurn(Object key) {
    return turns.take(key);
  }

  /**
   * Readies an operation's turn with its events, before the operation delivers to any
   * listener: a write one of them makes on the key then delivers them first.
   */
  void prepareTurn(KeyTurns.Turn turn, List<BCacheEntryEvent<K, V>> events) {
    if (wantsAny(events)) {
      turn.prepare(() -> deliverAll(events));
    }
  }

  /**
   * Delivers the events of an operation made here ({@code null} or empty: none) on this thread,
   * once the key's earlier ones have been delivered, and ends its turn: what a synchronous
   * listener gets. See {@link KeyTurns} for the threads that do not wait.
   *
   * @throws CacheEntryListenerException if the listener or its filter failed, here or when a
   *     write another listener made delivered these events first
   */
  void deliverInTurn(KeyTurns.Turn turn, List<BCacheEntryEvent<K, V>> events) {
    if (!turn.claim()) {
      turn.rethrowFailure(); // delivered already, by a write a listener made on the key
      return;
    }
    try {
      if (!wantsAny(events)) {
        return;
      }
      if (ThreadMark.DELIVERING.isSet() || ThreadMark.HELD_KEYS.isSet()) {
        turn.deliverOwnEarlier();
      } else {
        turn.awaitPrevious();
      }
      deliverAll(events);
    } finally {
      turn.end();
    }
  }

  private void deliverAll(List<BCacheEntryEvent<K, V>> events) {
    try (ThreadMark.Scope delivering = ThreadMark.DELIVERING.enter()) {
      for (BCacheEntryEvent<K, V> event : events) {
        deliver(event);
      }
    }
  }

  private void deliverLogged(List<BCacheEntryEvent<K, V>> events) {
    try (ThreadMark.Scope delivering = ThreadMark.DELIVERING.enter()) {
      for (BCacheEntryEvent<K, V> event : events) {
        try {
          deliver(event);
        } catch (RuntimeException e) {
          LOG.warn("listener {} failed on {}", listener, event, e);
        }
      }
    }
  }

  /**
   * Waits until every delivery whose place was taken so far has run, unless that would wait for
   * this very thread (see {@link EventQueue#awaitIdle}): those deliveries then run after it.
   */
  void awaitQuiescence() {
    queue.awaitIdle();
  }

  private boolean wantsAny(List<BCacheEntryEvent<K, V>> events) {
    if (events != null) {
      for (BCacheEntryEvent<K, V> event : events) {
        if (wants(event)) {
          return true;
        }
      }
    }
    return false;
  }

  @SuppressWarnings("unchecked")
  private void deliver(BCacheEntryEvent<K, V> event) {
    if (!wants(event)) {
      return;
    }
    try {
      if (filter != null && !filter.evaluate(event)) {
        return;
      }
      List<BCacheEntryEvent<K, V>> one = List.of(event);
      switch (event.getEventType()) {
        case CREATED:
          ((CacheEntryCreatedListener<K, V>) listener).onCreated((Iterable) one);
          break;
        case UPDATED:
          ((CacheEntryUpdatedListener<K, V>) listener).onUpdated((Iterable) one);
          break;
        case REMOVED:
          ((CacheEntryRemovedListener<K, V>) listener).onRemoved((Iterable) one);
          break;
        case EXPIRED:
          ((CacheEntryExpiredListener<K, V>) listener).onExpired((Iterable) one);
          break;
        default:
          throw new IllegalStateException("unknown event type " + event.getEventType());
      }
    } catch (CacheEntryListenerException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CacheEntryListenerException(e);
    }
  }

  private boolean wants(BCacheEntryEvent<K, V> event) {
    switch (event.getEventType()) {
      case CREATED:
        return listener instanceof CacheEntryCreatedListener;
      case UPDATED:
        return listener instanceof CacheEntryUpdatedListener;
      case REMOVED:
        return listener instanceof CacheEntryRemovedListener;
      case EXPIRED:
        return listener instanceof CacheEntryExpiredListener;
      default:
        return false;
    }
  }

  void close() {
    Closeables.closeQuietly(listener);
    Closeables.closeQuietly(filter);
  }

}

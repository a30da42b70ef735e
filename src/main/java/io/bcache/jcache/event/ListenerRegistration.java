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
  /** Every delivery to this listener, local and remote, in the order the operations took effect. */
  private final EventQueue queue;

  @SuppressWarnings("unchecked")
  ListenerRegistration(CacheEntryListenerConfiguration<K, V> configuration, Executor executor) {
    this.configuration = configuration;
    this.listener = configuration.getCacheEntryListenerFactory().create();
    Factory<CacheEntryEventFilter<? super K, ? super V>> filterFactory =
        configuration.getCacheEntryEventFilterFactory();
    this.filter = filterFactory == null ? null : filterFactory.create();
    this.queue = new EventQueue(executor);
  }

  CacheEntryListenerConfiguration<K, V> configuration() {
    return configuration;
  }

  /** Takes the place of an operation's events (taken under the key's lock). */
  EventQueue.Place take() {
    return queue.take();
  }

  /**
   * Delivers the events of an operation made here to its place: a synchronous listener before
   * this returns, which throws what the listener or filter threw; an asynchronous one later.
   */
  void deliver(EventQueue.Place place, List<BCacheEntryEvent<K, V>> events) {
    if (!wantsAny(events)) {
      queue.fill(place, null);
    } else if (configuration.isSynchronous()) {
      queue.fillAndAwait(place, () -> {
        for (BCacheEntryEvent<K, V> event : events) {
          deliver(event);
        }
      });
    } else {
      queue.fill(place, () -> deliverLogged(events));
    }
  }

  /**
   * Delivers the events of a change made on another node to its place, later, whether the
   * listener is synchronous or not: no operation waits for them here, and the thread that
   * applies peers' changes never runs application code. A failure is logged.
   */
  void deliverRemote(EventQueue.Place place, List<BCacheEntryEvent<K, V>> events) {
    queue.fill(place, wantsAny(events) ? () -> deliverLogged(events) : null);
  }

  private void deliverLogged(List<BCacheEntryEvent<K, V>> events) {
    for (BCacheEntryEvent<K, V> event : events) {
      try {
        deliver(event);
      } catch (RuntimeException e) {
        LOG.warn("listener {} failed on {}", listener, event, e);
      }
    }
  }

  /** Waits until every delivery whose place was taken so far has run. */
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

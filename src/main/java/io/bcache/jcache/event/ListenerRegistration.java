package io.bcache.jcache.event;

import io.bcache.jcache.Closeables;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
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
  /** Runs the deliveries no operation waits for, one at a time. */
  private final SerialExecutor lane;
  /** This listener's deliveries by key (the store's form of it), while any is pending. */
  private final ConcurrentHashMap<Object, KeyQueue> queues = new ConcurrentHashMap<>();

  @SuppressWarnings("unchecked")
  ListenerRegistration(CacheEntryListenerConfiguration<K, V> configuration, Executor executor) {
    this.configuration = configuration;
    this.listener = configuration.getCacheEntryListenerFactory().create();
    Factory<CacheEntryEventFilter<? super K, ? super V>> filterFactory =
        configuration.getCacheEntryEventFilterFactory();
    this.filter = filterFactory == null ? null : filterFactory.create();
    this.lane = new SerialExecutor(executor);
  }

  CacheEntryListenerConfiguration<K, V> configuration() {
    return configuration;
  }

  /** Takes the place of an operation's events in the key's queue (under the key's lock). */
  KeyQueue.Place take(Object storedKey) {
    for (;;) {
      KeyQueue.Place place = queues.computeIfAbsent(storedKey,
          key -> new KeyQueue(key, queues, lane)).take();
      if (place != null) {
        return place;
      }
    }
  }

  /**
   * Fills the place of an operation made here with its events: an asynchronous listener gets
   * them later; a synchronous one when the operation calls {@link #await}. Returns whether it
   * must.
   */
  boolean fill(KeyQueue.Place place, List<BCacheEntryEvent<K, V>> events) {
    if (!wantsAny(events)) {
      place.queue().fill(place, null);
      return false;
    }
    if (!configuration.isSynchronous()) {
      place.queue().fill(place, () -> deliverLogged(events));
      return false;
    }
    place.queue().fillAwaited(place, () -> {
      for (BCacheEntryEvent<K, V> event : events) {
        deliver(event);
      }
    });
    return true;
  }

  /**
   * Returns once a synchronous listener had, on this thread, the events {@link #fill} gave its
   * place.
   *
   * @throws CacheEntryListenerException if the listener or its filter failed
   */
  void await(KeyQueue.Place place) {
    place.queue().await(place);
  }

  /**
   * Delivers the events of a change made on another node to its place, later, whether the
   * listener is synchronous or not: no operation waits for them here, and the thread that
   * applies peers' changes never runs application code. A failure is logged.
   */
  void deliverRemote(KeyQueue.Place place, List<BCacheEntryEvent<K, V>> events) {
    place.queue().fill(place, wantsAny(events) ? () -> deliverLogged(events) : null);
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

  /**
   * Waits until every delivery whose place was taken so far has run; not if this thread runs
   * this listener's deliveries (the listener closes its cache): those queued behind it then
   * still run, after it.
   */
  void awaitQuiescence() {
    if (lane.runsOnCurrentThread()) {
      return;
    }
    for (KeyQueue queue : List.copyOf(queues.values())) {
      queue.awaitIdle();
    }
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

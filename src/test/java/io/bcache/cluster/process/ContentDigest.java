package io.bcache.cluster.process;

import java.util.Map;

/**
 * An order-independent fingerprint of a cache's contents: the entry count and a wrapping sum of
 * a 64-bit mix of every key and value. {@link NodeMain} answers {@code digest} with it, and tests
 * compute the expected one from the contents they wrote, so "the same contents" is one comparison.
 */
final class ContentDigest {

  private long count;
  private long sum;

  void add(String key, String value) {
    count++;
    sum += mix(mix(key.hashCode()) * 31 + (value == null ? 0 : value.hashCode()));
  }

  /** The line-protocol form, {@code <count>:<hex sum>}. */
  String value() {
    return count + ":" + Long.toHexString(sum);
  }

  static String of(Map<String, String> contents) {
    ContentDigest digest = new ContentDigest();
    contents.forEach(digest::add);
    return digest.value();
  }

  /** MurmurHash3's 64-bit finaliser. */
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb93fe53b49c3L;
    h ^= h >>> 33;
    return h;
  }
}

package io.bcache.integration.spring;

import java.io.Serializable;

/**
 * The user's value class. Values that travel between nodes are Java-serialized, so it is
 * {@link Serializable}, and a node accepts it only if {@code bcache.serialization.allow} lists it.
 */
public record Greeting(String name, String text) implements Serializable {
}

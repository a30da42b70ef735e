package io.bcache.config;

import java.util.regex.Pattern;

/** A {@code host:port} pair from the configuration; {@code [::1]:port} for IPv6 literals. */
public record HostPort(String host, int port) {

  // names, IPv4 and IPv6 literals (with an optional zone): nothing that could break a line
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%-]{1,255}");

  /**
   * Parses {@code text} as {@code host:port}.
   *
   * @param property the property the text came from, named in the error
   * @throws IllegalArgumentException if the text is not a host and a port from 0 to 65535
   */
  public static HostPort parse(String property, String text) {
    String trimmed = text.trim();
    int colon = trimmed.lastIndexOf(':');
    if (colon <= 0 || colon == trimmed.length() - 1) {
      throw new IllegalArgumentException(property + " must be host:port, was '" + text + "'");
    }
    String host = trimmed.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(trimmed.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(property + " must be host:port, was '" + text + "'", e);
    }
    if (port < 0 || port > 65_535 || !isValidHost(host)) {
      throw new IllegalArgumentException(property + " must be host:port with a host name or address and a port"
          + " from 0 to 65535, was '" + text + "'");
    }
    return new HostPort(host, port);
  }

  /**
   * Whether {@code host} is a host name, an IPv4 address or an IPv6 literal (without brackets,
   * with an optional zone): what a node may publish for its peers to reach it.
   */
  public static boolean isValidHost(String host) {
    return host != null && HOST.matcher(host).matches();
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}

package io.bcache.cluster.membership;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes and reads a member's znode: its name is the node id as 16 lowercase hex digits, its data
 * a few {@code key=value} lines of UTF-8 text that an operator can read with {@code zkCli get}:
 *
 * <pre>
 * # bcache member
 * format=1
 * nodeId=00000000000004d2
 * host=127.0.0.1
 * port=7400
 * protocol=1
 * </pre>
 *
 * <p>Reading is strict because anything may write under the members folder: every required key
 * exactly once, values in range, and the id in the data equal to the znode's name. Keys this
 * version does not know are skipped, so a later writer may add optional ones; a change that older
 * readers must not misread bumps {@code format}.
 */
final class MemberCodec {

  /** The only data format this version writes and reads. */
  static final int FORMAT = 1;

  /** Data larger than this is not a member written by bcache. */
  static final int MAX_BYTES = 1024;

  private static final Pattern NODE_NAME = Pattern.compile("[0-9a-f]{16}");
  private static final Pattern KEY = Pattern.compile("[a-zA-Z][a-zA-Z0-9._-]{0,63}");
  private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,10}");

  private MemberCodec() {
  }

  /** The znode name of the node with this id: 16 lowercase hex digits, unsigned. */
  static String nodeName(long nodeId) {
    return HexFormat.of().toHexDigits(nodeId);
  }

  static byte[] encode(Member member) {
    String text = "# bcache member\n"
        + "format=" + FORMAT + "\n"
        + "nodeId=" + nodeName(member.nodeId()) + "\n"
        + "host=" + member.host() + "\n"
        + "port=" + member.port() + "\n"
        + "protocol=" + member.protocolVersion() + "\n";
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads the member stored in the znode {@code nodeName}.
   *
   * @throws IllegalArgumentException saying what is wrong, if the znode is not a valid member
   */
  static Member decode(String nodeName, byte[] data) {
    if (!NODE_NAME.matcher(nodeName).matches()) {
      throw new IllegalArgumentException("name is not 16 lowercase hex digits");
    }
    Map<String, String> fields = fields(data);
    String format = required(fields, "format");
    if (!format.equals(Integer.toString(FORMAT))) {
      throw new IllegalArgumentException("unsupported format '" + format + "'");
    }
    String id = required(fields, "nodeId");
    if (!id.equals(nodeName)) {
      throw new IllegalArgumentException("nodeId '" + id + "' does not match the znode name");
    }
    return new Member(Long.parseUnsignedLong(id, 16), required(fields, "host"),
        decimal(fields, "port"), decimal(fields, "protocol"));
  }

  private static Map<String, String> fields(byte[] data) {
    if (data == null || data.length == 0) {
      throw new IllegalArgumentException("no data");
    }
    if (data.length > MAX_BYTES) {
      throw new IllegalArgumentException(data.length + " bytes, more than " + MAX_BYTES);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(data)).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("not UTF-8 text", e);
    }
    Map<String, String> fields = new HashMap<>();
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int equals = line.indexOf('=');
      String key = (equals < 0) ? line : line.substring(0, equals);
      if (equals < 0 || !KEY.matcher(key).matches()) {
        throw new IllegalArgumentException("line is not key=value: '" + abbreviate(line) + "'");
      }
      if (fields.put(key, line.substring(equals + 1)) != null) {
        throw new IllegalArgumentException("key '" + key + "' appears twice");
      }
    }
    return fields;
  }

  private static String required(Map<String, String> fields, String key) {
    String value = fields.get(key);
    if (value == null) {
      throw new IllegalArgumentException("missing '" + key + "'");
    }
    return value;
  }

  private static int decimal(Map<String, String> fields, String key) {
    String value = required(fields, key);
    if (!DECIMAL.matcher(value).matches()) {
      throw new IllegalArgumentException(key + " is not a decimal number: '" + abbreviate(value) + "'");
    }
    long parsed = Long.parseLong(value);
    if (parsed > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + " is out of range: " + value);
    }
    return (int) parsed;
  }

  private static String abbreviate(String text) {
    String printable = text.replaceAll("\\p{Cntrl}", "?");
    return (printable.length() <= 40) ? printable : printable.substring(0, 40) + "...";
  }
}

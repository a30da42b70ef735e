package io.bcache.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {

  @Test
  void reassemblesFramesSplitAtEveryByte() {
    EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(16));
    ByteBuf wire = Unpooled.buffer()
        .writeInt(3).writeBytes(new byte[] {1, 2, 3})
        .writeInt(0)
        .writeInt(2).writeBytes(new byte[] {4, 5});

    while (wire.isReadable()) {
      channel.writeInbound(wire.readRetainedSlice(1));
    }

    assertThat(nextFrame(channel)).containsExactly(1, 2, 3);
    assertThat(nextFrame(channel)).isEmpty();
    assertThat(nextFrame(channel)).containsExactly(4, 5);
    assertThat((Object) channel.readInbound()).isNull();
    wire.release();
    channel.finishAndReleaseAll();
  }

  @Test
  void rejectsADeclaredLengthAboveTheLimitBeforeItArrives() {
    EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(16));

    assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeInt(17)))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("declares 17 bytes");
    // whatever follows is discarded, never decoded
    channel.writeInbound(Unpooled.buffer().writeInt(1).writeByte(7));
    assertThat((Object) channel.readInbound()).isNull();
    channel.finishAndReleaseAll();
  }

  @Test
  void rejectsANegativeLength() {
    EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(16));

    assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeInt(-1)))
        .isInstanceOf(ProtocolViolationException.class)
        .hasMessageContaining("declares 4294967295 bytes");
    channel.finishAndReleaseAll();
  }

  @Test
  void raisedLimitAppliesToTheNextFrame() {
    FrameDecoder decoder = new FrameDecoder(2);
    EmbeddedChannel channel = new EmbeddedChannel(decoder);
    channel.writeInbound(Unpooled.buffer().writeInt(2).writeBytes(new byte[] {1, 2}));

    decoder.maxFrameSize(3);
    channel.writeInbound(Unpooled.buffer().writeInt(3).writeBytes(new byte[] {3, 4, 5}));

    assertThat(nextFrame(channel)).containsExactly(1, 2);
    assertThat(nextFrame(channel)).containsExactly(3, 4, 5);
    channel.finishAndReleaseAll();
  }

  /** The next frame the decoder emitted, copied out of the slice it came as, which is released. */
  private static byte[] nextFrame(EmbeddedChannel channel) {
    ByteBuf frame = channel.readInbound();
    try {
      return ByteBufUtil.getBytes(frame);
    } finally {
      frame.release();
    }
  }

  @Test
  void encoderWritesLengthThenPayload() {
    EmbeddedChannel channel = new EmbeddedChannel(FrameEncoder.INSTANCE);

    channel.writeOutbound((Object) new byte[] {9, 8});

    ByteBuf out = channel.readOutbound();
    assertThat(out.readInt()).isEqualTo(2);
    assertThat(out.readByte()).isEqualTo((byte) 9);
    assertThat(out.readByte()).isEqualTo((byte) 8);
    assertThat(out.isReadable()).isFalse();
    out.release();
  }
}

package dev.pgmux.protocol.message.backend;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.pgmux.protocol.testing.Buffers.decoded;
import static dev.pgmux.protocol.testing.WireBytes.wire;
import static org.assertj.core.api.Assertions.assertThat;

/** What {@link BackendCodec} leaves alone: messages pgmux passes through without reading them. */
class BackendCodecTest {

    @Test
    void returnsNullForADataRow() {
        // 'D' | int32 13 | int16 1 column | int32 3 | "abc"
        byte[] dataRow = wire().tag('D').int32(13).int8(0).int8(1).int32(3).text("abc").build();

        assertThat(decoded(dataRow, BackendCodec::decode)).isNull();
    }

    @ParameterizedTest
    // RowDescription, CopyData, CopyInResponse, CopyOutResponse, CopyBothResponse, NotificationResponse
    @ValueSource(chars = {'T', 'd', 'G', 'H', 'W', 'A'})
    void returnsNullForTagsItDoesNotRead(char tag) {
        // tag | int32 7 | 3 arbitrary bytes (not even checked)
        assertThat(decoded(wire().tag(tag).int32(7).text("\u0001\u0002\u0003").build(), BackendCodec::decode)).isNull();
    }

    @Test
    void namesWhatWasExpected() {
        assertThat(BackendCodec.unexpected("ReadyForQuery", null))
                .hasMessage("expected ReadyForQuery, got an untyped message");
        assertThat(BackendCodec.unexpected("ReadyForQuery", new ParameterStatus("TimeZone", "UTC")))
                .hasMessage("expected ReadyForQuery, got ParameterStatus[name=TimeZone, value=UTC]");
    }
}

package dev.pgmux.proxy.console;

import dev.pgmux.protocol.frame.Frames;
import dev.pgmux.protocol.message.backend.BackendCodec;
import dev.pgmux.protocol.message.backend.ErrorResponse;
import dev.pgmux.protocol.message.backend.Notice;
import dev.pgmux.protocol.message.backend.NoticeResponse;
import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * The backend messages the console writes, into one buffer per answer. Result columns are text unless the
 * client's Bind asked for binary ({@code formats}: none = all text, one = for all, else one per column).
 */
final class Wire {
    private Wire() {}

    static void rowDescription(ByteBuf out, List<Column> columns, short[] formats) {
        int at = Frames.beginMessage(out, (byte) 'T');
        out.writeShort(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            Column column = columns.get(i);
            Frames.writeCString(out, column.name());
            out.writeInt(0); // no table
            out.writeShort(0); // no attribute number
            out.writeInt(column.type().oid());
            out.writeShort(column.type().size());
            out.writeInt(-1); // no type modifier
            out.writeShort(binary(formats, i) ? 1 : 0);
        }
        Frames.endMessage(out, at);
    }

    static void dataRow(ByteBuf out, List<Column> columns, List<Object> row, short[] formats) {
        int at = Frames.beginMessage(out, (byte) 'D');
        out.writeShort(columns.size());
        for (int i = 0; i < columns.size(); i++) {
            columns.get(i).type().write(out, row.get(i), binary(formats, i));
        }
        Frames.endMessage(out, at);
    }

    private static boolean binary(short[] formats, int column) {
        if (formats.length == 0) {
            return false;
        }
        return (formats.length == 1 ? formats[0] : formats[column]) == 1;
    }

    static void commandComplete(ByteBuf out, String tag) {
        int at = Frames.beginMessage(out, (byte) 'C');
        Frames.writeCString(out, tag);
        Frames.endMessage(out, at);
    }

    static void readyForQuery(ByteBuf out) {
        int at = Frames.beginMessage(out, (byte) 'Z');
        out.writeByte('I'); // the console has no transactions
        Frames.endMessage(out, at);
    }

    static void error(ByteBuf out, String sqlState, String message) {
        BackendCodec.encode(ErrorResponse.error(sqlState, message), out);
    }

    static void notice(ByteBuf out, Result.Notice notice) {
        Notice fields = Notice.of("NOTICE", "00000", notice.message());
        if (notice.detail() != null) {
            fields = fields.with(Notice.DETAIL, notice.detail());
        }
        BackendCodec.encode(new NoticeResponse(fields), out);
    }

    static void parameterStatus(ByteBuf out, String name, String value) {
        int at = Frames.beginMessage(out, (byte) 'S');
        Frames.writeCString(out, name);
        Frames.writeCString(out, value);
        Frames.endMessage(out, at);
    }

    /** ParseComplete '1', BindComplete '2', CloseComplete '3', NoData 'n', EmptyQueryResponse 'I', PortalSuspended 's'. */
    static void empty(ByteBuf out, char tag) {
        int at = Frames.beginMessage(out, (byte) tag);
        Frames.endMessage(out, at);
    }

    static void parameterDescription(ByteBuf out, int[] types) {
        int at = Frames.beginMessage(out, (byte) 't');
        out.writeShort(types.length);
        for (int type : types) {
            out.writeInt(type);
        }
        Frames.endMessage(out, at);
    }
}

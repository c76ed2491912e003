package dev.pgmux.protocol.message.backend;

/** ReadyForQuery ('Z') with the transaction status: idle, in a transaction block, or in a failed one. */
public enum ReadyForQuery implements BackendMessage {
    IDLE('I'), IN_TRANSACTION('T'), FAILED_TRANSACTION('E');

    public static final byte TAG = 'Z';

    private final byte status;

    ReadyForQuery(char status) {
        this.status = (byte) status;
    }

    public byte status() {
        return status;
    }

    public static ReadyForQuery of(byte status) {
        return switch (status) {
            case 'I' -> IDLE;
            case 'T' -> IN_TRANSACTION;
            case 'E' -> FAILED_TRANSACTION;
            default -> throw new dev.pgmux.protocol.frame.ProtocolException(
                    "invalid transaction status in ReadyForQuery: " + (status & 0xFF));
        };
    }
}

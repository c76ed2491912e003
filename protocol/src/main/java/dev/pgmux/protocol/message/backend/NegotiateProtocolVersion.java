package dev.pgmux.protocol.message.backend;

import java.util.List;

/** NegotiateProtocolVersion ('v'): the newest minor version supported and the protocol options not recognised. */
public record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions) implements BackendMessage {
    public static final byte TAG = 'v';

    public NegotiateProtocolVersion {
        unrecognizedOptions = List.copyOf(unrecognizedOptions);
    }
}

package dev.pgmux.protocol.message.backend;

/**
 * Messages a server sends that pgmux reads or synthesises. Everything else passes through as a raw frame.
 * Names follow the "Message Formats" section of the PostgreSQL protocol chapter.
 */
public sealed interface BackendMessage
        permits Authentication, ParameterStatus, BackendKeyData, ReadyForQuery,
                ErrorResponse, NoticeResponse, NegotiateProtocolVersion,
                ParseComplete, BindComplete, CloseComplete, CommandComplete {
}

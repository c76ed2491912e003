package dev.pgmux.protocol.message.frontend;

/**
 * Messages a client sends that pgmux reads. Everything else a client sends passes through as a raw frame.
 * Names follow the "Message Formats" section of the PostgreSQL protocol chapter.
 */
public sealed interface FrontendMessage
        permits StartupMessage, SslRequest, GssEncRequest, CancelRequest, PeerCancelRequest,
                PasswordMessage, SaslInitialResponse, SaslResponse,
                Query, Parse, Bind, Describe, Execute, Close, Sync, Flush, Terminate {
}

package dev.pgmux.loadtest.cli;

/** A mistake on the command line: reported with a hint, exit status 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }

    UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}

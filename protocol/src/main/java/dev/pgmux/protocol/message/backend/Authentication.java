package dev.pgmux.protocol.message.backend;

import java.util.List;

/** The Authentication* family ('R'), one record per subtype. */
public sealed interface Authentication extends BackendMessage {
    byte TAG = 'R';

    int OK = 0;
    int CLEARTEXT_PASSWORD = 3;
    int MD5_PASSWORD = 5;
    int SASL = 10;
    int SASL_CONTINUE = 11;
    int SASL_FINAL = 12;

    enum Ok implements Authentication { INSTANCE }

    enum CleartextPassword implements Authentication { INSTANCE }

    record Md5Password(byte[] salt) implements Authentication {}

    record Sasl(List<String> mechanisms) implements Authentication {
        public Sasl {
            mechanisms = List.copyOf(mechanisms);
        }
    }

    record SaslContinue(byte[] data) implements Authentication {}

    record SaslFinal(byte[] data) implements Authentication {}

    /** A subtype pgmux does not support (Kerberos, GSS, SSPI); carried so the error can name it. */
    record Unsupported(int code) implements Authentication {}
}

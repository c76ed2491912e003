package dev.pgmux.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramSecretTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getEncoder();

    @Test
    void generateUsesPostgresDefaults() {
        ScramSecret a = ScramSecret.generate("pw", RANDOM);
        ScramSecret b = ScramSecret.generate("pw", RANDOM);
        assertThat(a.iterations()).isEqualTo(4096);
        assertThat(a.salt()).hasSize(16);
        assertThat(a.storedKey()).hasSize(32);
        assertThat(a.serverKey()).hasSize(32);
        assertThat(a.salt()).isNotEqualTo(b.salt());
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void verifierRoundTrip() {
        ScramSecret secret = ScramSecret.generate("pw", RANDOM);
        String verifier = secret.toVerifier();

        assertThat(verifier).matches("SCRAM-SHA-256\\$4096:[A-Za-z0-9+/]{22}==\\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=");
        ScramSecret parsed = ScramSecret.parse(verifier);
        assertThat(parsed).isEqualTo(secret);
        assertThat(parsed.hashCode()).isEqualTo(secret.hashCode());
        assertThat(parsed.toVerifier()).isEqualTo(verifier);
    }

    @Test
    void parseReadsEachField() {
        byte[] salt = {9, 8, 7, 6, 5};
        byte[] stored = new byte[32];
        byte[] server = new byte[32];
        stored[0] = 1;
        server[31] = 2;
        String verifier = "SCRAM-SHA-256$10000:" + B64.encodeToString(salt) + "$"
                + B64.encodeToString(stored) + ":" + B64.encodeToString(server);

        ScramSecret secret = ScramSecret.parse(verifier);

        assertThat(secret.iterations()).isEqualTo(10000);
        assertThat(secret.salt()).isEqualTo(salt);
        assertThat(secret.storedKey()).isEqualTo(stored);
        assertThat(secret.serverKey()).isEqualTo(server);
    }

    @Test
    void fromPasswordWithTheRfcSaltIsConsistentWithTheRfcExchange() throws Exception {
        ScramSecret secret = ScramSecret.fromPassword("pencil", ScramRfc7677Test.SALT, 4096);
        // Re-parsed from its verifier, the secret still accepts the RFC 7677 proof.
        ScramServerSession server = new ScramServerSession(ScramSecret.parse(secret.toVerifier()), false, RANDOM,
                ScramRfc7677Test.SERVER_NONCE);
        server.handleClientFirst("SCRAM-SHA-256", ScramRfc7677Test.CLIENT_FIRST.getBytes());
        assertThat(new String(server.handleClientFinal(ScramRfc7677Test.CLIENT_FINAL.getBytes())))
                .isEqualTo(ScramRfc7677Test.SERVER_FINAL);
        // ... and a different password does not give that secret.
        assertThat(ScramSecret.fromPassword("pencil2", ScramRfc7677Test.SALT, 4096)).isNotEqualTo(secret);
        assertThat(ScramSecret.fromPassword("pencil", ScramRfc7677Test.SALT, 4095)).isNotEqualTo(secret);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 16, 32, 100})
    void anySaltLengthRoundTrips(int length) {
        byte[] salt = new byte[length];
        RANDOM.nextBytes(salt);
        ScramSecret secret = ScramSecret.fromPassword("pw", salt, 4096);
        assertThat(ScramSecret.parse(secret.toVerifier())).isEqualTo(secret);
        assertThat(secret.salt()).isEqualTo(salt);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "pencil",
            "md553f48b7c4b76a86ce72276c5755f217d",
            "SCRAM-SHA-1$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$-1:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$abc:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$99999999999:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:not*base64$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAA",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$x",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==:x$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:x",
            " SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    })
    void parseRejectsGarbageWithoutEchoingIt(String verifier) {
        assertThatThrownBy(() -> ScramSecret.parse(verifier))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid SCRAM verifier: ")
                .satisfies(e -> {
                    assertThat(e.getMessage()).doesNotContain("W22ZaJ0SNY7soEsUEjb6gQ");
                    assertThat(e.getMessage()).doesNotContain("AAAAAAAAAAAAAAAA");
                    if (verifier.length() > "SCRAM-SHA-256$".length()) {
                        assertThat(e.getMessage()).doesNotContain(verifier);
                    }
                });
    }

    @Test
    void toStringHidesTheKeys() {
        ScramSecret secret = ScramSecret.generate("pw", RANDOM);
        String text = secret.toString();
        assertThat(text).contains("4096").contains("16 bytes");
        assertThat(text).doesNotContain(B64.encodeToString(secret.storedKey()))
                .doesNotContain(B64.encodeToString(secret.serverKey()))
                .doesNotContain(B64.encodeToString(secret.salt()))
                .doesNotContain(String.valueOf(secret.storedKey()[0]) + ", " + secret.storedKey()[1]);
    }

    @Test
    void equalsComparesContents() {
        byte[] salt = {1, 2, 3};
        ScramSecret a = ScramSecret.fromPassword("pw", salt, 10);
        ScramSecret b = ScramSecret.fromPassword("pw", salt.clone(), 10);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(ScramSecret.fromPassword("pw", new byte[] {1, 2, 4}, 10));
        assertThat(a).isNotEqualTo(new ScramSecret(10, salt, a.storedKey(), b.storedKey()));
        assertThat(a).isNotEqualTo(new ScramSecret(11, salt, a.storedKey(), a.serverKey()));
    }

    @Test
    void arraysAreCopiedInAndOut() {
        byte[] salt = {1, 2, 3};
        byte[] stored = new byte[32];
        byte[] server = new byte[32];
        ScramSecret secret = new ScramSecret(5, salt, stored, server);
        salt[0] = 99;
        stored[0] = 99;
        secret.serverKey()[0] = 99;
        secret.salt()[1] = 99;
        assertThat(secret.salt()).containsExactly(1, 2, 3);
        assertThat(secret.storedKey()[0]).isZero();
        assertThat(secret.serverKey()[0]).isZero();
    }

    @Test
    void constructorValidates() {
        assertThatThrownBy(() -> new ScramSecret(0, new byte[16], new byte[32], new byte[32]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramSecret(4096, new byte[0], new byte[32], new byte[32]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramSecret(4096, new byte[16], new byte[31], new byte[32]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramSecret(4096, new byte[16], new byte[32], new byte[33]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ScramSecret.fromPassword("pw", new byte[16], 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

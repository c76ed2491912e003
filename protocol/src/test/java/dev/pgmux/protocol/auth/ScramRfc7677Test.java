package dev.pgmux.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.junit.jupiter.api.Test;

/** The SCRAM-SHA-256 example exchange of RFC 7677 section 3, on both sides. */
class ScramRfc7677Test {

    static final String PASSWORD = "pencil";
    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }

    @Test
    void clientProducesTheRfcMessages() throws Exception {
        ScramClientSession client = new ScramClientSession(PASSWORD, null, null, CLIENT_NONCE, "user");

        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(text(client.clientFirstMessage())).isEqualTo(CLIENT_FIRST);
        assertThat(text(client.handleServerFirst(ascii(SERVER_FIRST)))).isEqualTo(CLIENT_FINAL);
        client.verifyServerFinal(ascii(SERVER_FINAL));
        assertThat(client.isSucceeded()).isTrue();
    }

    @Test
    void serverAcceptsTheRfcProofAndAnswersTheRfcSignature() throws Exception {
        ScramSecret secret = ScramSecret.fromPassword(PASSWORD, SALT, 4096);
        ScramServerSession server = new ScramServerSession(secret, false, new SecureRandom(), SERVER_NONCE);

        assertThat(server.handleClientFirst("SCRAM-SHA-256", ascii(CLIENT_FIRST))).isEqualTo(SERVER_FIRST);
        assertThat(text(server.handleClientFinal(ascii(CLIENT_FINAL)))).isEqualTo(SERVER_FINAL);
        assertThat(server.isSucceeded()).isTrue();
        // The recovered ClientKey is the real one: its hash is StoredKey.
        assertThat(ScramCrypto.sha256(server.clientKey())).isEqualTo(secret.storedKey());
    }

    @Test
    void clientBuiltFromKeysProducesTheSameProof() throws Exception {
        ScramSecret secret = ScramSecret.fromPassword(PASSWORD, SALT, 4096);
        ScramServerSession server = new ScramServerSession(secret, false, new SecureRandom(), SERVER_NONCE);
        server.handleClientFirst("SCRAM-SHA-256", ascii(CLIENT_FIRST));
        server.handleClientFinal(ascii(CLIENT_FINAL));

        ScramClientSession client =
                new ScramClientSession(null, server.clientKey(), secret.serverKey(), CLIENT_NONCE, "user");
        client.clientFirstMessage();
        assertThat(text(client.handleServerFirst(ascii(SERVER_FIRST)))).isEqualTo(CLIENT_FINAL);
        client.verifyServerFinal(ascii(SERVER_FINAL));
        assertThat(client.isSucceeded()).isTrue();
    }

    @Test
    void hiAgreesWithTheJdkPbkdf2() throws Exception {
        byte[] ours = ScramCrypto.hi(ascii(PASSWORD), SALT, 4096);
        SecretKeyFactory factory = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
        byte[] jdk = factory.generateSecret(new PBEKeySpec(PASSWORD.toCharArray(), SALT, 4096, 256)).getEncoded();
        assertThat(ours).isEqualTo(jdk);
    }
}

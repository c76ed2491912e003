package dev.pgmux.protocol.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Md5PasswordTest {

    private static final byte[] SALT = {0x01, 0x02, 0x03, 0x04};

    private static String md5Hex(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    @Test
    void storedHashKnownAnswer() throws Exception {
        String expected = "md5" + md5Hex("secretpostgres".getBytes(StandardCharsets.UTF_8));
        assertThat(Md5Password.storedHash("postgres", "secret")).isEqualTo(expected);
        // md5("secretpostgres"), as computed by the md5sum tool.
        assertThat(expected).isEqualTo("md5" + "53f48b7c4b76a86ce72276c5755f217d");
    }

    @Test
    void encodeKnownAnswer() throws Exception {
        String inner = md5Hex("secretpostgres".getBytes(StandardCharsets.UTF_8));
        byte[] innerAndSalt = new byte[36];
        System.arraycopy(inner.getBytes(StandardCharsets.US_ASCII), 0, innerAndSalt, 0, 32);
        System.arraycopy(SALT, 0, innerAndSalt, 32, 4);
        String expected = "md5" + md5Hex(innerAndSalt);

        assertThat(Md5Password.encode("postgres", "secret", SALT)).isEqualTo(expected);
        assertThat(Md5Password.encodeFromStored(Md5Password.storedHash("postgres", "secret"), SALT)).isEqualTo(expected);
    }

    @Test
    void saltAndUserMatter() {
        String base = Md5Password.encode("postgres", "secret", SALT);
        assertThat(Md5Password.encode("postgres", "secret", new byte[] {1, 2, 3, 5})).isNotEqualTo(base);
        assertThat(Md5Password.encode("tgres", "secretpos", SALT)).isEqualTo(base); // md5(password + user) concatenates
        assertThat(Md5Password.encode("admin", "secret", SALT)).isNotEqualTo(base);
    }

    @Test
    void verifyAcceptsTheRightResponseOnly() {
        String stored = Md5Password.storedHash("postgres", "secret");
        assertThat(Md5Password.verify(stored, SALT, Md5Password.encode("postgres", "secret", SALT))).isTrue();
        assertThat(Md5Password.verify(stored, SALT, Md5Password.encode("postgres", "Secret", SALT))).isFalse();
        assertThat(Md5Password.verify(stored, SALT, Md5Password.encode("postgres", "secret", new byte[] {4, 3, 2, 1}))).isFalse();
        assertThat(Md5Password.verify(stored, SALT, "")).isFalse();
        assertThat(Md5Password.verify(stored, SALT, null)).isFalse();
        assertThat(Md5Password.verify(stored, SALT, stored)).isFalse();
    }

    @Test
    void storedHashFormat() {
        assertThat(Md5Password.isStoredHash(Md5Password.storedHash("u", "p"))).isTrue();
        assertThat(Md5Password.isStoredHash("md553F48B7C4B76A86CE72276C5755F217D")).isFalse();
        assertThat(Md5Password.isStoredHash("md553f48b7c4b76a86ce72276c5755f217")).isFalse();
        assertThat(Md5Password.isStoredHash("secret")).isFalse();
        assertThat(Md5Password.isStoredHash(null)).isFalse();
        assertThatThrownBy(() -> Md5Password.encodeFromStored("plaintext", SALT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("plaintext");
        assertThatThrownBy(() -> Md5Password.encodeFromStored(Md5Password.storedHash("u", "p"), new byte[3]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Md5Password.verify("plaintext", SALT, "md5"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

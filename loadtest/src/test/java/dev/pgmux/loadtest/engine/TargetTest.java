package dev.pgmux.loadtest.engine;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TargetTest {

    @Test
    void libpqStyleUrls() {
        Target t = Target.parse("postgresql://app%40corp:p%3Ass@db.internal:6543/shop?prepareThreshold=1&sslmode=disable", null, null);
        assertThat(t.host()).isEqualTo("db.internal");
        assertThat(t.port()).isEqualTo(6543);
        assertThat(t.database()).isEqualTo("shop");
        assertThat(t.user()).isEqualTo("app@corp");
        assertThat(t.password()).isEqualTo("p:ss");
        assertThat(t.properties()).containsExactlyInAnyOrderEntriesOf(Map.of("prepareThreshold", "1", "sslmode", "disable"));
        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6543/shop");
        assertThat(t.display()).isEqualTo("postgresql://app@corp@db.internal:6543/shop").doesNotContain("p:ss");
    }

    @Test
    void jdbcStyleUrlsAndDefaults() {
        Target t = Target.parse("jdbc:postgresql://localhost/?user=u&password=pw&ApplicationName=x", null, null);
        assertThat(t.port()).isEqualTo(5432);
        assertThat(t.database()).isEqualTo("postgres");
        assertThat(t.user()).isEqualTo("u");
        Properties p = t.connectionProperties(Map.of("prepareThreshold", "3"));
        assertThat(p).containsEntry("user", "u").containsEntry("password", "pw").containsEntry("prepareThreshold", "3")
                .containsEntry("ApplicationName", "x");
    }

    @Test
    void overridesAndIpv6() {
        Target t = Target.parse("postgres://a:b@[::1]:5433/db", "c", "d");
        assertThat(t.host()).isEqualTo("[::1]");
        assertThat(t.port()).isEqualTo(5433);
        assertThat(t.user()).isEqualTo("c");
        assertThat(t.password()).isEqualTo("d");
    }

    @Test
    void mistakesAreNamedWithoutThePassword() {
        assertThatThrownBy(() -> Target.parse("mysql://u:secret@h/db", null, null))
                .hasMessageContaining("not a Postgres URL").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> Target.parse("postgresql://h/db", null, null)).hasMessageContaining("no user");
        assertThatThrownBy(() -> Target.parse("postgresql://u:secret@h:port/db", null, null))
                .hasMessageContaining("bad port").hasMessageNotContaining("secret");
        assertThat(Target.redact("jdbc:postgresql://h/db?user=u&password=secret")).doesNotContain("secret");
    }
}

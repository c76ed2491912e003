package dev.pgmux.config;

import static dev.pgmux.config.Yamls.MINIMAL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvSubstitutionTest {

    private static final Map<String, String> ENV = Map.of("HOST", "db.internal", "PORT", "6000", "EMPTY", "");

    @Test
    void replacesAVariable() {
        assertThat(EnvSubstitution.apply("${HOST}", ENV)).isEqualTo("db.internal");
    }

    @Test
    void replacesSeveralVariablesAnywhereInAValue() {
        assertThat(EnvSubstitution.apply("tcp://${HOST}:${PORT}/x", ENV)).isEqualTo("tcp://db.internal:6000/x");
    }

    @Test
    void usesTheDefaultWhenUnsetOrEmpty() {
        assertThat(EnvSubstitution.apply("${UNSET:-fallback}", ENV)).isEqualTo("fallback");
        assertThat(EnvSubstitution.apply("${EMPTY:-fallback}", ENV)).isEqualTo("fallback");
        assertThat(EnvSubstitution.apply("${HOST:-fallback}", ENV)).isEqualTo("db.internal");
        assertThat(EnvSubstitution.apply("${UNSET:-}", ENV)).isEmpty();
    }

    @Test
    void anEmptyVariableWithoutDefaultIsEmpty() {
        assertThat(EnvSubstitution.apply("a${EMPTY}b", ENV)).isEqualTo("ab");
    }

    @Test
    void doubleDollarEscapesALiteral() {
        assertThat(EnvSubstitution.apply("pa$${HOST}ss", ENV)).isEqualTo("pa${HOST}ss");
        assertThat(EnvSubstitution.apply("$$ and $ alone stay", ENV)).isEqualTo("$$ and $ alone stay");
    }

    @Test
    void substitutedTextIsNotSubstitutedAgain() {
        assertThat(EnvSubstitution.apply("${RAW}", Map.of("RAW", "${HOST}"))).isEqualTo("${HOST}");
    }

    @Test
    void aMissingVariableIsNamed() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> EnvSubstitution.apply("${DB_PASSWORD}", ENV))
                .withMessage("environment variable DB_PASSWORD is not set");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> EnvSubstitution.apply("${A}-${B}", ENV))
                .withMessage("environment variables A, B are not set");
    }

    @Test
    void malformedReferencesAreRefused() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> EnvSubstitution.apply("abc${HOST", ENV))
                .withMessage("unclosed ${ (write $${ for a literal ${)");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> EnvSubstitution.apply("${9LIVES}", ENV))
                .withMessageStartingWith("${...} must name an environment variable");
    }

    @Test
    void worksInEveryKindOfValue() {
        String yaml = """
                listen:
                  transaction_port: ${PORT}
                tls:
                  self_signed: ${SELF_SIGNED:-false}
                limits:
                  max_frame_size: ${FRAME:-1MB}
                tenants:
                  - id: ${TENANT}
                    upstream:
                      host: ${HOST}
                    checkout_timeout: ${WAIT:-2s}
                    users:
                      - name: app
                        password: ${DB_PASSWORD}
                """;

        PgmuxConfig config = ConfigLoader.parse(yaml,
                Map.of("PORT", "7000", "TENANT", "acme", "HOST", "db", "DB_PASSWORD", "s3cret"));

        assertThat(config.listen().transactionPort()).isEqualTo(7000);
        assertThat(config.limits().maxFrameSize()).isEqualTo(1024 * 1024);
        TenantConfig tenant = config.tenant("acme").orElseThrow();
        assertThat(tenant.upstream().host()).isEqualTo("db");
        assertThat(tenant.checkoutTimeout()).hasSeconds(2);
        assertThat(tenant.user("app").orElseThrow().password()).isEqualTo("s3cret");
    }

    @Test
    void aMissingVariableIsReportedUnderItsPath() {
        assertThat(Yamls.problems(MINIMAL.replace("password: pw", "password: ${DB_PASSWORD}"))).containsExactly(
                "tenants[0].users[0].password: environment variable DB_PASSWORD is not set");
        assertThat(Yamls.problems("listen: {admin_port: '${ADMIN_PORT}'}\n" + MINIMAL)).containsExactly(
                "listen.admin_port: environment variable ADMIN_PORT is not set");
    }

    @Test
    void aSubstitutedValueIsCheckedLikeAWrittenOne() {
        assertThat(Yamls.problems("listen: {admin_port: '${ADMIN_PORT}'}\n" + MINIMAL, Map.of("ADMIN_PORT", "http")))
                .containsExactly("listen.admin_port: must be an integer, got \"http\"");
    }
}

package dev.pgmux.proxy.cancel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.protocol.message.backend.BackendKeyData;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

class CancelRegistryTest {
    private final CancelRegistry<String> registry = new CancelRegistry<>(new SecureRandom());

    @Test
    void aKeyFindsItsClientAndNoOtherSecretDoes() {
        BackendKeyData a = registry.register("a");
        BackendKeyData b = registry.register("b");
        assertThat(a.processId()).isNotEqualTo(b.processId());
        assertThat(registry.find(a.processId(), a.secretKey())).isEqualTo("a");
        assertThat(registry.find(b.processId(), b.secretKey())).isEqualTo("b");
        assertThat(registry.find(a.processId(), a.secretKey() + 1)).isNull();
        assertThat(registry.find(a.processId(), b.secretKey())).isNull();
        assertThat(registry.size()).isEqualTo(2);

        registry.unregister(a);
        assertThat(registry.find(a.processId(), a.secretKey())).isNull();
        assertThat(registry.find(b.processId(), b.secretKey())).isEqualTo("b");
        assertThat(registry.size()).isEqualTo(1);
    }

    @Test
    void clientsSharingAProcessIdAreToldApartByTheirSecrets() {
        BackendKeyData a = registry.register("a", 4242);
        BackendKeyData b = registry.register("b", 4242);
        BackendKeyData c = registry.register("c", 4242);
        assertThat(a.processId()).isEqualTo(4242);
        assertThat(a.secretKey()).isNotEqualTo(b.secretKey()).isNotEqualTo(c.secretKey());
        assertThat(b.secretKey()).isNotEqualTo(c.secretKey());
        assertThat(registry.size()).isEqualTo(3);
        assertThat(registry.find(4242, b.secretKey())).isEqualTo("b");

        registry.unregister(b);
        assertThat(registry.find(4242, b.secretKey())).isNull();
        assertThat(registry.find(4242, a.secretKey())).isEqualTo("a");
        assertThat(registry.find(4242, c.secretKey())).isEqualTo("c");

        registry.unregister(a);
        assertThat(registry.find(4242, c.secretKey())).as("the last holder, held on its own").isEqualTo("c");
        assertThat(registry.size()).isEqualTo(1);
        BackendKeyData d = registry.register("d", 4242);
        assertThat(registry.find(4242, d.secretKey())).isEqualTo("d");
        assertThat(registry.find(4242, c.secretKey())).isEqualTo("c");

        registry.unregister(c);
        registry.unregister(d);
        assertThat(registry.find(4242, d.secretKey())).isNull();
        assertThat(registry.size()).isZero();
    }

    @Test
    void unregisteringAKeyTwiceOrAnUnknownOneChangesNothing() {
        BackendKeyData a = registry.register("a", 7);
        registry.unregister(new BackendKeyData(7, a.secretKey() + 1));
        registry.unregister(new BackendKeyData(8, a.secretKey()));
        assertThat(registry.find(7, a.secretKey())).isEqualTo("a");
        registry.unregister(a);
        registry.unregister(a);
        assertThat(registry.size()).isZero();
    }
}

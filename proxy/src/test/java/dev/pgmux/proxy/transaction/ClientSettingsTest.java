package dev.pgmux.proxy.transaction;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgmux.proxy.server.ServerSession;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

class ClientSettingsTest {
    private final ServerSession server = new ServerSession();

    @Test
    void startupSettingsTakeTheFormTheServerReports() {
        ClientSettings settings = new ClientSettings(Map.of("DateStyle", "ISO", "application_name", "app"));
        assertThat(settings.startupKey()).containsEntry("DateStyle", "ISO");
        Map<String, String> snapshot = settings.normalisedBy(Map.of("DateStyle", "ISO, MDY", "TimeZone", "UTC"));
        assertThat(snapshot).containsExactlyInAnyOrderEntriesOf(Map.of("DateStyle", "ISO, MDY", "application_name", "app"));
        assertThat(settings.snapshot()).isSameAs(snapshot);
        assertThat(settings.startupKey()).as("the template key stays as sent").containsEntry("DateStyle", "ISO");
    }

    @Test
    void changesAreReadBackAndAResetReturnsToTheStartupValue() {
        ClientSettings settings = new ClientSettings(Map.of());
        settings.welcomedWith(Map.of("application_name", "app"));
        assertThat(settings.readBackNeeded()).isFalse();

        settings.note(SessionChanges.of("SET statement_timeout = '5s'; RESET Application_Name"));
        assertThat(settings.readBackNeeded()).isTrue();
        ClientSettings.ReadBack readBack = settings.takeReadBack();
        assertThat(settings.readBackNeeded()).isFalse();
        assertThat(readBack.names()).containsExactlyInAnyOrder("statement_timeout", "application_name");

        String[] values = readBack.names().stream().map(n -> n.equalsIgnoreCase("statement_timeout") ? "5s" : "")
                .toArray(String[]::new);
        Map<String, String> before = settings.snapshot();
        settings.readBack(readBack, Arrays.asList(values), server);
        assertThat(settings.snapshot()).isNotSameAs(before)
                .containsEntry("statement_timeout", "5s")
                .as("RESET returns to the client's startup value, as on a direct connection")
                .containsEntry("application_name", "app");
    }

    @Test
    void discardAllReturnsEverySettingToItsStartupValue() {
        ClientSettings settings = new ClientSettings(Map.of());
        settings.welcomedWith(Map.of("application_name", "app"));
        settings.note(SessionChanges.of("SET search_path = x"));
        settings.readBack(settings.takeReadBack(), java.util.List.of("x"), server);
        assertThat(settings.snapshot()).containsEntry("search_path", "x");

        assertThat(settings.takeResetAll()).isFalse();
        settings.discardAll();
        assertThat(settings.takeResetAll()).isTrue();
        assertThat(settings.snapshot()).containsExactlyEntriesOf(Map.of("application_name", "app"));
        assertThat(settings.takeResetAll()).as("once").isFalse();
    }
}

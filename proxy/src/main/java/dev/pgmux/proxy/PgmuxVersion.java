package dev.pgmux.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The project version, from a resource Maven fills in, else the jar's manifest; {@code dev} when neither has it. */
public final class PgmuxVersion {
    private static final String VERSION = find();

    private PgmuxVersion() {}

    public static String get() {
        return VERSION;
    }

    private static String find() {
        try (InputStream in = PgmuxVersion.class.getResourceAsStream("/pgmux.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version", "");
                if (!v.isBlank() && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException ignored) {
            // fall through to the manifest
        }
        String fromManifest = PgmuxVersion.class.getPackage().getImplementationVersion();
        return fromManifest != null ? fromManifest : "dev";
    }
}

package dev.pgmux.proxy.console;

/** pgmux's version, from the jar's manifest; a development build (classes, not the jar) has none. */
final class Version {
    private static final String VERSION;

    static {
        String version = Version.class.getPackage().getImplementationVersion();
        VERSION = version == null ? "0.0.0-dev" : version;
    }

    private Version() {}

    static String get() {
        return VERSION;
    }
}

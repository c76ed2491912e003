package dev.pgmux.proxy.features;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * psycopg 3 for tests: scripts under the test resources' {@code python/} run with the system's {@code python3},
 * which must have the {@code psycopg} module (Debian: {@code apt-get install python3-psycopg}; {@code .ci/run} installs
 * it). Without it the test fails, saying so; it is not skipped.
 */
final class Psycopg {
    private static final String SYSTEM_PYTHON = "/usr/bin/python3";

    private Psycopg() {}

    /**
     * Runs the test resource {@code python/script}, {@code env} added to its environment, and returns what it
     * printed on stdout; fails with its stderr unless it exits 0 within {@code seconds}.
     */
    static String run(String script, Map<String, String> env, int seconds) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(List.of(interpreter(), resource(script).toString()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(env);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("python3 with psycopg 3 is needed for this test and python3 was not found on the "
                    + "PATH (Debian: apt-get install python3-psycopg; .ci/run installs it)", e);
        }
        CompletableFuture<String> out = drain(process.getInputStream());
        CompletableFuture<String> err = drain(process.getErrorStream());
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("python3 " + script + " did not finish in " + seconds + " s; stderr: " + err.join());
        }
        if (process.exitValue() != 0) {
            throw new AssertionError("python3 " + script + " exited " + process.exitValue() + ": " + err.join());
        }
        return out.join();
    }

    /**
     * The system's python3, for which the Debian package installs the module, where it exists (another python3
     * may come first on the PATH, a pyenv one say, without it); else python3 from the PATH.
     */
    private static String interpreter() {
        return new File(SYSTEM_PYTHON).canExecute() ? SYSTEM_PYTHON : "python3";
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static Path resource(String name) {
        var url = Psycopg.class.getResource("/python/" + name);
        if (url == null) {
            throw new AssertionError("no test resource python/" + name);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}

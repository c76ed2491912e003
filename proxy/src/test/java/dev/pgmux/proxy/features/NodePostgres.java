package dev.pgmux.proxy.features;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * node-postgres ({@code pg} from npm) for tests: installed with npm into {@code target/node} the first time a
 * test needs it (never into the source tree), and scripts run with {@code node} against it. node and npm must be
 * on the PATH (Debian: {@code apt-get install nodejs npm}; {@code .ci/run} installs them): without them the
 * test fails, it is not skipped.
 */
final class NodePostgres {
    /** The driver's major version the tests are written against. */
    static final String PACKAGE = "pg@8";

    private NodePostgres() {}

    /**
     * Runs the test resource {@code script} with node, {@code env} added to its environment, and returns what it
     * printed on stdout; fails with its stderr unless it exits 0 within {@code seconds}.
     */
    static String run(String script, Map<String, String> env, int seconds) throws IOException, InterruptedException {
        Path modules = install();
        Path file = resource(script);
        ProcessBuilder builder = new ProcessBuilder(List.of("node", file.toString()));
        builder.environment().put("NODE_PATH", modules.toString());
        builder.environment().putAll(env);
        Output out = start(builder, "node");
        if (!out.process.waitFor(seconds, TimeUnit.SECONDS)) {
            out.process.destroyForcibly();
            throw new AssertionError("node " + script + " did not finish in " + seconds + " s; stderr: " + out.stderr());
        }
        if (out.process.exitValue() != 0) {
            throw new AssertionError("node " + script + " exited " + out.process.exitValue() + ": " + out.stderr());
        }
        return out.stdout();
    }

    /** {@code target/node/node_modules}, with {@value #PACKAGE} in it: npm installs it once, under a file lock. */
    private static synchronized Path install() throws IOException, InterruptedException {
        Path prefix = targetDirectory().resolve("node");
        Path modules = prefix.resolve("node_modules");
        Files.createDirectories(prefix);
        try (FileChannel lockFile = FileChannel.open(prefix.resolve(".install.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
            if (Files.isRegularFile(modules.resolve("pg").resolve("package.json"))) {
                return modules;
            }
            ProcessBuilder npm = new ProcessBuilder("npm", "install", "--prefix", prefix.toString(), "--no-audit",
                    "--no-fund", "--no-update-notifier", "--loglevel=error", PACKAGE);
            Output out = start(npm, "npm");
            if (!out.process.waitFor(300, TimeUnit.SECONDS)) {
                out.process.destroyForcibly();
                throw new AssertionError("npm install " + PACKAGE + " did not finish in 300 s");
            }
            if (out.process.exitValue() != 0 || !Files.isRegularFile(modules.resolve("pg").resolve("package.json"))) {
                throw new AssertionError("npm install " + PACKAGE + " failed (exit " + out.process.exitValue() + "): "
                        + out.stdout() + out.stderr());
            }
            return modules;
        }
    }

    /** A started process whose stdout and stderr are read as it runs (a full pipe would stall it). */
    private record Output(Process process, CompletableFuture<String> out, CompletableFuture<String> err) {
        String stdout() {
            return out.join();
        }

        String stderr() {
            return err.join();
        }
    }

    private static Output start(ProcessBuilder builder, String program) {
        Process process;
        try {
            process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new AssertionError(program + " is needed for the node-postgres tests and was not found on the PATH "
                    + "(Debian: apt-get install nodejs npm; .ci/run installs them)", e);
        }
        return new Output(process, drain(process.getInputStream()), drain(process.getErrorStream()));
    }

    private static CompletableFuture<String> drain(java.io.InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static Path resource(String name) {
        try {
            var url = NodePostgres.class.getResource("/node/" + name);
            if (url == null) {
                throw new AssertionError("no test resource node/" + name);
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The module's target directory: where the test classes were compiled to, one level up. */
    private static Path targetDirectory() {
        try {
            Path classes = Path.of(NodePostgres.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (classes.getParent() != null && classes.getParent().getFileName() != null
                    && classes.getParent().getFileName().toString().equals("target")) {
                return classes.getParent();
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall back to the working directory, which Maven sets to the module
        }
        return Path.of("").toAbsolutePath().resolve("target");
    }
}

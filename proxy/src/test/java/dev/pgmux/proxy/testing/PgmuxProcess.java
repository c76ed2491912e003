package dev.pgmux.proxy.testing;

import dev.pgmux.config.PgmuxConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * pgmux as a process of its own ({@code dev.pgmux.proxy.Main --config FILE} on the test classpath, with the
 * test JVM's java), for what only a process shows: signals, its exit status, several processes on one port.
 * Its output (log) is kept; ended by its pid only, and at the latest when the test closes it.
 */
public final class PgmuxProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile(
            "transaction mode on port (\\d+), session mode on port (\\d+), admin HTTP on port (\\d+)");

    private final String name;
    private final Process process;
    private final List<String> output = new ArrayList<>();
    private final Thread reader;
    private int transactionPort;
    private int sessionPort;
    private int adminPort;

    private PgmuxProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        this.reader = new Thread(this::readOutput, name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Writes {@code config} to {@code file} and starts pgmux on it; see {@link #awaitListening}. */
    public static PgmuxProcess start(String name, PgmuxConfig config, Path file) throws IOException {
        ConfigFiles.write(file, config);
        return start(name, file);
    }

    /** Starts pgmux on the configuration file {@code file}; see {@link #awaitListening}. */
    public static PgmuxProcess start(String name, Path file) throws IOException {
        return start(name, file, List.of());
    }

    /**
     * Starts pgmux on {@code file} through {@code wrapper}, a command that runs the command after it (under a
     * seccomp filter, say); see {@link #awaitListening}.
     */
    public static PgmuxProcess start(String name, Path file, List<String> wrapper) throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                "-Dio.netty.leakDetection.level=paranoid", "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.addAll(List.of("dev.pgmux.proxy.Main", "--config", file.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new PgmuxProcess(name, process);
    }

    private void readOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (output) {
                    output.add(line);
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    /** Waits for the line that says pgmux listens, and learns its ports from it; fails if pgmux exits first. */
    public PgmuxProcess awaitListening(Duration max) {
        Wait.until(name + " listening", max, () -> {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + output());
            }
            for (String line : lines()) {
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    transactionPort = Integer.parseInt(m.group(1));
                    sessionPort = Integer.parseInt(m.group(2));
                    adminPort = Integer.parseInt(m.group(3));
                    return true;
                }
            }
            return false;
        }, this::output);
        return this;
    }

    public int port(Port port) {
        return port == Port.SESSION ? sessionPort : transactionPort;
    }

    public int transactionPort() {
        return transactionPort;
    }

    public int sessionPort() {
        return sessionPort;
    }

    public int adminPort() {
        return adminPort;
    }

    /** A pgjdbc connection as {@code role} through {@code port} to database postgres, plus {@code extra}. */
    public Connection connect(Port port, TestRole role, Properties extra) throws SQLException {
        return connect(port(port), role, extra);
    }

    /** A pgjdbc connection as {@code role} to pgmux on {@code port}, with a socket timeout, plus {@code extra}. */
    public static Connection connect(int port, TestRole role, Properties extra) throws SQLException {
        Properties props = new Properties();
        props.setProperty("socketTimeout", "30");
        props.setProperty("connectTimeout", "10");
        props.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                PgmuxHarness.loginProperties(role, props));
    }

    public long pid() {
        return process.pid();
    }

    /**
     * SIGTERM, through the process's handle: {@link Process#destroy} sends the same signal but also closes the
     * process's output, and the test wants to read what pgmux says while it drains.
     */
    public void terminate() {
        if (!process.toHandle().destroy()) {
            throw new AssertionError("SIGTERM to " + process.pid() + " not sent");
        }
    }

    /** SIGINT, by this process's pid. */
    public void interrupt() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -INT " + process.pid() + " failed");
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the process to exit and returns its status; fails (and kills it) if it has not within {@code max}. */
    public int awaitExit(Duration max) throws InterruptedException {
        if (!process.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(name + " still running after " + max.toMillis() + " ms:\n" + output());
        }
        reader.join(10_000); // its last lines
        return process.exitValue();
    }

    public List<String> lines() {
        synchronized (output) {
            return List.copyOf(output);
        }
    }

    public String output() {
        return String.join("\n", lines());
    }

    /** Ends the process if it still runs (SIGKILL: the test is over), and waits for it. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}

package dev.pgmux.proxy.reload;

import dev.pgmux.config.ConfigChanges;
import dev.pgmux.config.ConfigException;
import dev.pgmux.config.ConfigLoader;
import dev.pgmux.config.PgmuxConfig;
import dev.pgmux.config.TlsConfig;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.tls.ClientTls;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Applies a new configuration to a running pgmux without dropping a client, one reload at a time:
 *
 * <pre>
 *   file -> ConfigLoader (every problem, with its path)  -- any problem: refused, nothing changes
 *   -> listen.* kept as running (a warning: only a restart changes them)
 *   -> TLS context rebuilt if tls.* or the certificate files changed -- unusable: refused
 *   -> server keepalive, then configuration and TLS context in one step (CurrentConfig)
 *   -> tenants updated in place (TenantRegistry) -> pools reconfigured or retired (PoolRegistry)
 *   -> log format and level switched (Logs)
 * </pre>
 *
 * Reloads run on a thread of their own (or the caller's), never on an event loop: reading the file, building
 * a TLS context and deriving the SCRAM secrets of changed passwords take milliseconds.
 */
public final class Reloader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    private final ProxyRuntime runtime;
    private final ReentrantLock lock = new ReentrantLock();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("pgmux-reload").factory());
    private volatile Path file;
    /** The configuration as the file (or the code that started pgmux) gives it, before the metadata's tenants. */
    private PgmuxConfig base;
    /** The tenants the metadata database holds (cluster.metadata_url), as last read; none without one. */
    private List<dev.pgmux.config.TenantConfig> metadataTenants = List.of();
    /** SHA-256 of the certificate and key files the TLS context in effect was built from; null if none. */
    private byte[] tlsFiles;

    public Reloader(ProxyRuntime runtime) {
        this.runtime = runtime;
        this.tlsFiles = digestOrNull(runtime.config().tls());
        this.base = runtime.config();
    }

    /** The file {@link #reload()} re-reads: the one the running configuration came from. */
    public void file(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** Re-reads the configuration file and applies it, or refuses it with every problem found. */
    public ReloadResult reload() {
        lock.lock();
        try {
            Path source = file;
            if (source == null) {
                return refused(new ConfigException("no configuration file to re-read",
                        List.of("pgmux was not started from a configuration file (--config)")));
            }
            PgmuxConfig next;
            try {
                next = ConfigLoader.load(source);
            } catch (ConfigException e) {
                return refused(e);
            }
            return reload(next);
        } finally {
            lock.unlock();
        }
    }

    /** {@link #reload()} on the reload thread, for callers on an event loop (the admin HTTP port). */
    public CompletableFuture<ReloadResult> reloadAsync() {
        return CompletableFuture.supplyAsync(this::reload, thread);
    }

    /**
     * Applies {@code next} (already valid: configurations are checked when built), keeping the listeners and
     * adding the metadata database's tenants to its own.
     */
    public ReloadResult reload(PgmuxConfig next) {
        lock.lock();
        try {
            base = next;
            return apply(withMetadataTenants(next, metadataTenants));
        } catch (ConfigException e) {
            return refused(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The metadata database's tenants changed: applies them beside the file's, as a reload does (no client
     * dropped). A tenant whose id the file has too is left out, with a warning: the file's stays.
     */
    public ReloadResult metadataTenants(List<dev.pgmux.config.TenantConfig> tenants) {
        lock.lock();
        try {
            metadataTenants = List.copyOf(tenants);
            return apply(withMetadataTenants(base, metadataTenants));
        } catch (ConfigException e) {
            return refused(e);
        } finally {
            lock.unlock();
        }
    }

    private static PgmuxConfig withMetadataTenants(PgmuxConfig config, List<dev.pgmux.config.TenantConfig> extra) {
        if (extra.isEmpty()) {
            return config;
        }
        List<dev.pgmux.config.TenantConfig> all = new ArrayList<>(config.tenants());
        java.util.Set<String> ids = new java.util.HashSet<>();
        config.tenants().forEach(t -> ids.add(t.id()));
        for (dev.pgmux.config.TenantConfig tenant : extra) {
            if (ids.add(tenant.id())) {
                all.add(tenant);
            } else {
                log.warn("tenant \"{}\" of the metadata database is left out: the configuration file has one "
                        + "with that id", tenant.id());
            }
        }
        return config.withTenants(all);
    }

    private ReloadResult apply(PgmuxConfig next) {
        lock.lock();
        try {
            PgmuxConfig running = runtime.config();
            PgmuxConfig applied = next.withListen(running.listen()).withCluster(running.cluster()); // both need a restart
            ConfigChanges changes = ConfigChanges.between(running, next);
            List<String> lines = new ArrayList<>(changes.changes());
            byte[] files = digest(applied.tls());
            SslContext tls = runtime.clientTls();
            if (!applied.tls().equals(running.tls()) || !Arrays.equals(files, tlsFiles)) {
                tls = clientTls(applied.tls());
                if (applied.tls().equals(running.tls())) {
                    lines.add("tls: certificate or key file changed, read again");
                }
            }
            if (lines.isEmpty() && !applied.equals(running)) {
                lines.add("other settings changed (for example the order of tenants or users)");
            }
            ReloadResult.Applied result = new ReloadResult.Applied(lines, changes.needRestart());
            if (!lines.isEmpty()) {
                runtime.connector().keepalive(applied.limits().serverKeepalive());
                runtime.current().set(applied, tls);
                tlsFiles = files;
                runtime.tenants().update(applied);
                runtime.pools().reconfigure();
                runtime.console().reconfigure(applied.console());
                runtime.logs().reconfigure(applied.log());
            }
            if (result.needRestart().isEmpty()) {
                log.info("{}", result.text());
            } else {
                log.warn("{}", result.text());
            }
            return result;
        } catch (ConfigException e) {
            return refused(e);
        } finally {
            lock.unlock();
        }
    }

    private static ReloadResult refused(ConfigException e) {
        ReloadResult.Refused result = new ReloadResult.Refused(e.summary(), e.problems());
        log.warn("{}", result.text());
        return result;
    }

    private static SslContext clientTls(TlsConfig tls) {
        try {
            return ClientTls.create(tls);
        } catch (IllegalStateException e) {
            Throwable cause = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause() : e;
            throw new ConfigException("cannot set up TLS for clients", List.of("tls.cert_file: " + cause.getMessage()));
        }
    }

    /** SHA-256 over the certificate and key files, or null when TLS uses none; unreadable files are a problem. */
    private static byte[] digest(TlsConfig tls) {
        if (!tls.enabled() || tls.certFile().isEmpty() || tls.keyFile().isEmpty()) {
            return null;
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(Files.readAllBytes(tls.certFile().get()));
            sha.update(Files.readAllBytes(tls.keyFile().get()));
            return sha.digest();
        } catch (IOException e) {
            throw new ConfigException("cannot set up TLS for clients",
                    List.of("tls: cannot read the certificate or key file: " + e.getMessage()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static byte[] digestOrNull(TlsConfig tls) {
        try {
            return digest(tls);
        } catch (ConfigException e) {
            return null; // then the first reload builds the context again
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}

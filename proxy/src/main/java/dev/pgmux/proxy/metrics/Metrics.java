package dev.pgmux.proxy.metrics;

import dev.pgmux.config.PoolMode;
import dev.pgmux.proxy.client.ClientRegistry;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.pool.ServerPool;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.internal.PlatformDependent;

import java.lang.management.ManagementFactory;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process's meters, served in the Prometheus formats on the admin port's {@code /metrics}: the JVM's,
 * Netty's (direct memory, tasks queued on the event loops), the clients', the logins', and each pool's
 * ({@link PoolMetrics}).
 */
public final class Metrics implements AutoCloseable {
    /** Prometheus's text format, the default. */
    public static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    public static final String OPENMETRICS_FORMAT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ClientCensus census;
    private final HistogramCollector histograms = new HistogramCollector();
    private final ConcurrentHashMap<LoginKey, Counter> logins = new ConcurrentHashMap<>();
    private final JvmGcMetrics gc = new JvmGcMetrics();

    private record LoginKey(String tenant, PoolMode mode, String result) {}

    public Metrics(ClientRegistry clients) {
        this.census = new ClientCensus(clients);
        registry.getPrometheusRegistry().register(histograms);
        // Micrometer's CPU time is in nanoseconds under a name Prometheus's linter refuses; the standard
        // process_cpu_seconds_total replaces it.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
        // "_count" is a histogram's suffix to Prometheus: the number of CPUs gets another name.
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
            }
        });
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, bean -> bean.getProcessCpuTime() / 1e9)
                    .description("CPU time used by the process").baseUnit("seconds").register(registry);
        }
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        for (PoolMode mode : PoolMode.values()) {
            for (ClientState state : ClientState.values()) {
                if (state != ClientState.CLOSED) {
                    Gauge.builder("pgmux.client.connections", census, c -> c.recent().count(mode, state))
                            .description("Open client connections, by port and state")
                            .tag("mode", mode.name().toLowerCase()).tag("state", state.name().toLowerCase())
                            .register(registry);
                }
            }
        }
        Gauge.builder("pgmux.netty.direct.memory.used", () -> nettyDirectMemory())
                .description("Direct memory held by Netty's buffer allocator").baseUnit("bytes").register(registry);
    }

    /** The metadata database's meters (cluster.metadata_url): whether it is reachable, and what was read. */
    public void bindMetadata(dev.pgmux.proxy.cluster.MetadataStore metadata) {
        Gauge.builder("pgmux.metadata.connected", metadata, m -> m.connected() ? 1 : 0)
                .description("1 while pgmux holds a connection to the metadata database, else 0").register(registry);
        Gauge.builder("pgmux.metadata.tenants", metadata, dev.pgmux.proxy.cluster.MetadataStore::tenants)
                .description("Tenants read from the metadata database and applied").register(registry);
        Gauge.builder("pgmux.metadata.last.read.timestamp", metadata, m -> m.lastReadMillis() / 1000.0)
                .description("When the metadata database's tenants were last read (seconds since the epoch; 0: never)")
                .baseUnit("seconds").register(registry);
    }

    /** This instance's leases on the tenants' pool_size and max_clients (several instances). */
    public void bindLeases(dev.pgmux.proxy.cluster.SlotLeases leases) {
        Gauge.builder("pgmux.leases.valid", leases, l -> l.valid() ? 1 : 0)
                .description("1 while this instance holds live leases on its shares of the tenants' pool_size and "
                        + "max_clients, else 0 (it then holds no server and admits no client)").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("pgmux.leases.syncs", leases,
                        dev.pgmux.proxy.cluster.SlotLeases::syncs)
                .description("Lease renewals and rebalancings committed to the metadata database").register(registry);
    }

    /** Cancel requests between instances. */
    public void bindPeerCancels(dev.pgmux.proxy.cluster.PeerCancels cancels) {
        io.micrometer.core.instrument.FunctionCounter.builder("pgmux.peer.cancels.forwarded", cancels,
                        dev.pgmux.proxy.cluster.PeerCancels::forwarded)
                .description("Cancel requests for keys this instance does not hold, passed to the other instances")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("pgmux.peer.cancels.received", cancels,
                        dev.pgmux.proxy.cluster.PeerCancels::receivedCount)
                .description("Cancel requests other instances passed to this one").register(registry);
    }

    /** Netty's event-loop meters: tasks queued on each loop (a loop that falls behind shows here first). */
    public void bindEventLoops(EventLoopGroup loops) {
        int index = 0;
        for (EventExecutor executor : loops) {
            if (executor instanceof SingleThreadEventExecutor loop) {
                Gauge.builder("pgmux.netty.eventloop.pending.tasks", loop, SingleThreadEventExecutor::pendingTasks)
                        .description("Tasks waiting to run on an event loop").tag("loop", Integer.toString(index))
                        .register(registry);
            }
            index++;
        }
    }

    private static double nettyDirectMemory() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            return provider.metric().usedDirectMemory();
        }
        return PlatformDependent.usedDirectMemory();
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The meters of a new pool, removed with {@link PoolMetrics#close}. */
    public PoolMetrics forPool(ServerPool pool) {
        return new PoolMetrics(registry, histograms, pool, census);
    }

    /** A client was welcomed. */
    public void loginSucceeded(String tenant, PoolMode mode) {
        login(tenant, mode, "ok");
    }

    /**
     * A client that sent a startup message left before its welcome. {@code tenant} is a configured tenant's id
     * or null (never a name a client made up: the label set stays bounded); {@code reason} is one of a few
     * fixed words.
     */
    public void loginFailed(String tenant, PoolMode mode, String reason) {
        login(tenant, mode, reason);
    }

    private void login(String tenant, PoolMode mode, String result) {
        logins.computeIfAbsent(new LoginKey(tenant == null ? "" : tenant, mode, result),
                key -> Counter.builder("pgmux.client.logins")
                        .description("Client logins, by result: ok or why they failed")
                        .tag("tenant", key.tenant()).tag("mode", key.mode().name().toLowerCase())
                        .tag("result", key.result()).register(registry)).increment();
    }

    /** The meters in the format the {@code Accept} header asks for (OpenMetrics or Prometheus text). */
    public Scrape scrape(String accept) {
        String format = accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS_FORMAT : TEXT_FORMAT;
        return new Scrape(format, registry.scrape(format));
    }

    public record Scrape(String contentType, String body) {}

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}

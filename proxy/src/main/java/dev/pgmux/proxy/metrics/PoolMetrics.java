package dev.pgmux.proxy.metrics;

import dev.pgmux.config.PoolMode;
import dev.pgmux.proxy.client.ClientState;
import dev.pgmux.proxy.pool.PoolKey;
import dev.pgmux.proxy.pool.ServerPool;
import dev.pgmux.proxy.server.CloseReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.prometheus.metrics.model.snapshots.Labels;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The meters of one pool, registered when the pool is made and removed with it. Gauges are read from the pool
 * and from the client census at scrape time; the clients' traffic is recorded in one {@link PoolTraffic} per
 * pooling mode.
 */
public final class PoolMetrics {
    /** Zero totals: a pool whose meters are gone. */
    public static final Totals NO_TOTALS = new Totals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /**
     * Since the pool was made, both modes together, as PgBouncer's SHOW STATS counts them.
     *
     * @param serverAssignments servers attached to clients
     * @param clientParses      Parse messages of named statements from clients (rewrite mode)
     * @param serverParses      of those and of re-prepares, the ones that parsed on a server
     */
    public record Totals(long serverAssignments, long transactions, long queries, long bytesReceived, long bytesSent,
                         long transactionMicros, long queryMicros, long waitMicros, long clientParses,
                         long serverParses, long binds) {}

    static final HistogramCollector.Family CHECKOUT_WAIT = new HistogramCollector.Family("pgmux_checkout_wait_seconds",
            "How long clients waited for a server (0 when one was idle)");
    static final HistogramCollector.Family TRANSACTIONS = new HistogramCollector.Family(
            "pgmux_transaction_duration_seconds",
            "Transactions (and statements outside one) from the first request to ReadyForQuery('I')");
    static final HistogramCollector.Family QUERIES = new HistogramCollector.Family("pgmux_query_duration_seconds",
            "Requests from the client's message to the server's ReadyForQuery");

    private final MeterRegistry registry;
    private final HistogramCollector histograms;
    private record Registered(HistogramCollector.Family family, Labels labels) {}

    private final List<Registered> registeredHistograms = new ArrayList<>();
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<PoolMode, PoolTraffic> traffic = new EnumMap<>(PoolMode.class);
    private final Map<CloseReason, Counter> closes = new EnumMap<>(CloseReason.class);
    private final Counter connects;
    private final Counter connectFailures;
    private boolean closed;

    PoolMetrics(MeterRegistry registry, HistogramCollector histograms, ServerPool pool, ClientCensus census) {
        this.registry = registry;
        this.histograms = histograms;
        PoolKey key = pool.key();
        this.tags = Tags.of("tenant", key.tenant(), "database", key.database(), "user", key.user());
        serverGauge(pool, "active", s -> s.stats().active());
        serverGauge(pool, "idle", s -> s.stats().idle());
        serverGauge(pool, "connecting", s -> s.stats().connecting());
        serverGauge(pool, "cancelling", s -> s.stats().cancelling());
        serverGauge(pool, "closing", s -> s.stats().closing());
        add(Gauge.builder("pgmux.pool.size.limit", pool, s -> s.settings().maxSize())
                .description("Servers the pool may open (pool_size)").tags(tags).register(registry));
        add(Gauge.builder("pgmux.pool.wait.max", pool, s -> s.maxWaitNanos(System.nanoTime()) / 1e9)
                .description("How long the longest-waiting client of the pool has waited for a server")
                .baseUnit("seconds").tags(tags).register(registry));
        add(FunctionCounter.builder("pgmux.pool.checkouts", pool, s -> s.stats().checkouts())
                .description("Servers handed out by the pool").tags(tags).register(registry));
        connects = add(Counter.builder("pgmux.server.connects").description("Server connects and logins")
                .tags(tags).tag("result", "ok").register(registry));
        connectFailures = add(Counter.builder("pgmux.server.connects").description("Server connects and logins")
                .tags(tags).tag("result", "failed").register(registry));
        for (PoolMode mode : PoolMode.values()) {
            Tags modeTags = tags.and("mode", mode.name().toLowerCase());
            for (ClientState state : new ClientState[]{ClientState.ACTIVE, ClientState.IDLE, ClientState.WAITING}) {
                add(Gauge.builder("pgmux.pool.clients", census, c -> c.recent().count(pool, mode, state))
                        .description("Clients of the pool: holding a server, idle, or waiting for one")
                        .tags(modeTags).tag("state", state.name().toLowerCase()).register(registry));
            }
            Labels histogramLabels = Labels.of("tenant", key.tenant(), "database", key.database(), "user", key.user(),
                    "mode", mode.name().toLowerCase());
            traffic.put(mode, new PoolTraffic(
                    histogram(CHECKOUT_WAIT, histogramLabels),
                    histogram(TRANSACTIONS, histogramLabels),
                    histogram(QUERIES, histogramLabels),
                    add(bytes("pgmux.client.received", "Bytes received from clients", modeTags)),
                    add(bytes("pgmux.client.sent", "Bytes sent to clients", modeTags)),
                    add(prepared("hit", modeTags)), add(prepared("miss", modeTags)), add(prepared("reprepare", modeTags)),
                    add(prepared("eviction", modeTags)), add(prepared("replay", modeTags)),
                    add(Counter.builder("pgmux.binds").description("Bind messages of named statements (rewrite mode)")
                            .tags(modeTags).register(registry)),
                    errorClass -> add(Counter.builder("pgmux.client.errors")
                            .description("Error responses sent to clients, by SQLSTATE class")
                            .tags(modeTags).tag("class", errorClass).register(registry))));
        }
    }

    private void serverGauge(ServerPool pool, String state, ToDoubleFunction<ServerPool> value) {
        add(Gauge.builder("pgmux.pool.servers", pool, value).description("Server connections of the pool, by state")
                .tags(tags).tag("state", state).register(registry));
    }

    private LatencyHistogram histogram(HistogramCollector.Family family, Labels labels) {
        LatencyHistogram histogram = new LatencyHistogram();
        histograms.add(family, labels, histogram);
        registeredHistograms.add(new Registered(family, labels));
        return histogram;
    }

    private Counter bytes(String name, String description, Tags modeTags) {
        return Counter.builder(name).description(description).baseUnit("bytes").tags(modeTags).register(registry);
    }

    private Counter prepared(String event, Tags modeTags) {
        return Counter.builder("pgmux.prepared.statements")
                .description("Prepared statements (named, and unnamed ones served from shared statements): Parse "
                        + "answered from a server's statements (hit), prepared on the server (miss), prepared again on "
                        + "another server (reprepare), closed to make room (eviction), a unit sent again after the first use "
                        + "of a shared statement serving an unnamed one failed (replay)")
                .tags(modeTags).tag("event", event).register(registry);
    }

    private synchronized <M extends Meter> M add(M meter) {
        if (closed) {
            registry.remove(meter); // made after the pool went: counts on, unseen
        } else {
            meters.add(meter);
        }
        return meter;
    }

    public PoolTraffic traffic(PoolMode mode) {
        return traffic.get(mode);
    }

    /** A server of the pool logged in. */
    public void serverConnected() {
        connects.increment();
    }

    public void serverConnectFailed() {
        connectFailures.increment();
    }

    /** A server of the pool closed, for this reason (null: unknown). */
    public void serverClosed(CloseReason reason) {
        Counter counter;
        synchronized (this) {
            counter = closes.computeIfAbsent(reason == null ? CloseReason.SERVER_GONE : reason,
                    r -> add(Counter.builder("pgmux.server.closes").description("Server connections closed, by reason")
                            .tags(tags).tag("reason", r.name().toLowerCase()).register(registry)));
        }
        counter.increment();
    }

    public Totals totals() {
        long assignments = 0, transactions = 0, queries = 0, received = 0, sent = 0, waitMicros = 0;
        long transactionMicros = 0, queryMicros = 0, clientParses = 0, serverParses = 0, binds = 0;
        for (PoolTraffic t : traffic.values()) {
            assignments += t.checkoutWait.count();
            waitMicros += t.checkoutWait.sumNanos() / 1000;
            transactions += t.transactions.count();
            transactionMicros += t.transactions.sumNanos() / 1000;
            queries += t.queries.count();
            queryMicros += t.queries.sumNanos() / 1000;
            received += (long) t.received.count();
            sent += (long) t.sent.count();
            clientParses += (long) (t.preparedHits.count() + t.preparedMisses.count());
            serverParses += (long) (t.preparedMisses.count() + t.prepares.count());
            binds += (long) t.binds.count();
        }
        return new Totals(assignments, transactions, queries, received, sent, transactionMicros, queryMicros,
                waitMicros, clientParses, serverParses, binds);
    }

    /** Removes the pool's meters: a pool made again later starts from zero, as a restarted counter does. */
    public synchronized void close() {
        closed = true;
        meters.forEach(registry::remove);
        meters.clear();
        registeredHistograms.forEach(r -> histograms.remove(r.family(), r.labels()));
        registeredHistograms.clear();
    }
}

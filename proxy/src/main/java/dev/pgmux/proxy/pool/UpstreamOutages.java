package dev.pgmux.proxy.pool;

import dev.pgmux.proxy.server.ServerTarget;
import dev.pgmux.proxy.server.UpstreamException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Logs upstream outages once each, not once per failed connect: the first failure to reach an upstream
 * address is a warning, the rest of the outage is at debug level, and the first success after it says how
 * long it lasted. A login the server refused (wrong password, unknown database) is the client's answer
 * and is logged at debug level.
 */
public final class UpstreamOutages {
    private static final Logger log = LoggerFactory.getLogger(UpstreamOutages.class);

    private record Outage(long sinceNanos, int failures) {}

    private final ConcurrentHashMap<String, Outage> current = new ConcurrentHashMap<>();

    void connectFailed(ServerTarget target, Throwable cause) {
        if (cause instanceof UpstreamException e && e.serverError() != null) {
            log.debug("pool {}: the server refused the login: {} {}", target.key(), e.serverError().code(), e.serverError().message());
            return;
        }
        String address = target.host() + ":" + target.port();
        Outage outage = current.compute(address, (a, o) -> o == null ? new Outage(System.nanoTime(), 1)
                : new Outage(o.sinceNanos(), o.failures() + 1));
        if (outage.failures() == 1) {
            log.warn("upstream {} {}: {} (further failures are logged at debug level until it is back)",
                    address, UpstreamException.reached(cause) ? "login failed" : "unreachable", cause.getMessage());
        } else {
            log.debug("pool {}: cannot open a server connection: {}", target.key(), cause.getMessage());
        }
    }

    void connected(ServerTarget target) {
        if (current.isEmpty()) {
            return; // the usual case: no outage anywhere
        }
        String address = target.host() + ":" + target.port();
        Outage outage = current.remove(address);
        if (outage != null) {
            log.info("upstream {} reachable again after {} ms and {} failed connects", address,
                    (System.nanoTime() - outage.sinceNanos()) / 1_000_000, outage.failures());
        }
    }
}

package dev.pgmux.proxy.cluster;

import dev.pgmux.protocol.message.frontend.PeerCancelRequest;
import dev.pgmux.proxy.cancel.CancelRegistry;
import dev.pgmux.proxy.net.Transport;
import dev.pgmux.proxy.server.CancelSender;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancel requests across instances: a CancelRequest whose key this instance does not hold is passed on as a
 * {@link PeerCancelRequest}, and its receiver places it or drops it, never passing it on again. A key made up by
 * an instance carries that instance's prefix ({@link CancelRegistry#keyPrefixOf}): the request goes to that
 * instance alone. A key without one (in session mode a client's process id is its server's) goes to every live
 * peer (the instances of pgmux.instances, {@link MetadataStore#peers}); the one holding the key cancels, the
 * others find nothing. A key is checked only by its holder, secret and all, so a forged or stale key cancels
 * nothing anywhere.
 *
 * <p>A cancel costs a connection per peer, so at most {@value #MAX_PER_SECOND} are passed on per second:
 * a flood of unknown keys cannot multiply itself over the cluster. Without a metadata database there are no
 * peers, and nothing is passed on.
 */
public final class PeerCancels {
    private static final Logger log = LoggerFactory.getLogger(PeerCancels.class);

    static final int MAX_PER_SECOND = 100;
    private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
    /** How long a peer may keep the connection open after the request, as a server may after a cancel. */
    private static final java.time.Duration LINGER = java.time.Duration.ofSeconds(5);

    private final Transport transport;
    private long windowSecond = Long.MIN_VALUE;
    private int admittedInWindow;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    /** The other live instances, with their key prefixes, as the metadata database lists them. */
    private final Supplier<List<MetadataStore.Peer>> peers;

    public PeerCancels(Transport transport, Supplier<List<MetadataStore.Peer>> peers) {
        this.transport = transport;
        this.peers = peers;
    }

    /**
     * Passes a cancel this instance could not place to the instance whose prefix its process id carries, else to
     * every peer, unless the second's share is used up.
     */
    public void forward(EventLoop loop, int processId, int secretKey) {
        int prefix = CancelRegistry.keyPrefixOf(processId);
        List<MetadataStore.Peer> all = peers.get();
        List<MetadataStore.Peer> owner = prefix == 0 ? List.of()
                : all.stream().filter(peer -> peer.keyPrefix() == prefix).limit(1).toList();
        List<MetadataStore.Peer> targets = owner.isEmpty() ? all : owner;
        if (targets.isEmpty()) {
            return;
        }
        if (!admit(System.nanoTime())) {
            if (dropped.getAndIncrement() % 1_000 == 0) {
                log.warn("more than {} cancel requests a second for keys this instance does not hold: the excess is not "
                        + "passed to the other instances", MAX_PER_SECOND);
            }
            return;
        }
        forwarded.incrementAndGet();
        for (MetadataStore.Peer target : targets) {
            new Bootstrap().group(loop).channel(transport.channel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                    .handler(new CancelSender(new PeerCancelRequest(processId, secretKey), LINGER))
                    .connect(target.host(), target.port())
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            log.debug("passing a cancel request to {}: {}", target.address(), f.cause().toString());
                        }
                    });
        }
    }

    /** The other live instances, with their key prefixes; none without a metadata database. */
    public List<MetadataStore.Peer> peers() {
        return peers.get();
    }

    /** A PeerCancelRequest arrived from another instance (counted; the login handler places it). */
    public void received() {
        received.incrementAndGet();
    }

    /** Cancel requests passed on to the peers (to the key's owner, or else to each of them). */
    public long forwarded() {
        return forwarded.get();
    }

    /** Cancel requests other instances passed to this one. */
    public long receivedCount() {
        return received.get();
    }

    /** Admits up to {@value #MAX_PER_SECOND} a second (cancels are rare: a lock costs nothing here). */
    private synchronized boolean admit(long nowNanos) {
        long second = nowNanos / 1_000_000_000L;
        if (second != windowSecond) {
            windowSecond = second;
            admittedInWindow = 0;
        }
        return admittedInWindow++ < MAX_PER_SECOND;
    }
}

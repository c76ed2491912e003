package dev.pgmux.proxy.client;

import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every client connection of the process, from its accept to its close, by id: what the admin views list and
 * what a shutdown ends. From the start of a shutdown, clients are no longer admitted.
 */
public final class ClientRegistry {
    private final ConcurrentHashMap<Long, ClientConnection> clients = new ConcurrentHashMap<>();
    private volatile boolean admitting = true;

    void add(ClientConnection client) {
        clients.put(client.id(), client);
    }

    void remove(ClientConnection client) {
        clients.remove(client.id(), client);
    }

    /** Whether a login may still succeed: false once pgmux shuts down (logins then end with 57P03). */
    public boolean admitting() {
        return admitting;
    }

    /** pgmux is shutting down: logins under way and later ones are refused. */
    public void stopAdmitting() {
        admitting = false;
    }

    /** A live, weakly consistent view. */
    public Collection<ClientConnection> all() {
        return Collections.unmodifiableCollection(clients.values());
    }

    public int size() {
        return clients.size();
    }

    /** The client with this id, or null when it is gone. */
    public ClientConnection find(long id) {
        return clients.get(id);
    }
}

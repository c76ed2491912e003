package dev.pgmux.proxy.client;

import java.util.Collection;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every client connection of the process, from its accept to its close: what the admin views list and what a
 * shutdown ends. From the start of a shutdown, clients are no longer admitted. A set, not a map by id: an
 * idle client then costs one table node here, no boxed id; finding one by id (KILL_CLIENT) walks the set.
 */
public final class ClientRegistry {
    private final Set<ClientConnection> clients = ConcurrentHashMap.newKeySet();
    private volatile boolean admitting = true;

    void add(ClientConnection client) {
        clients.add(client);
    }

    void remove(ClientConnection client) {
        clients.remove(client);
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
        return Collections.unmodifiableCollection(clients);
    }

    public int size() {
        return clients.size();
    }

    /** The client with this id, or null when it is gone. */
    public ClientConnection find(long id) {
        for (ClientConnection client : clients) {
            if (client.id() == id) {
                return client;
            }
        }
        return null;
    }
}

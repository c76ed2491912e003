package dev.pgmux.proxy.pool;

/** A pool serves one (tenant, database, user): servers in it are interchangeable for those clients. */
public record PoolKey(String tenant, String database, String user) {
    @Override
    public String toString() {
        return tenant + "/" + database + "/" + user;
    }
}

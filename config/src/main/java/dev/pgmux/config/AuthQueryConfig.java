package dev.pgmux.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Looking up users upstream instead of listing them: a client whose user the tenant does not list is
 * authenticated against the secret {@code query} returns for it, run as {@code user} on the upstream.
 *
 * @param user       who runs the query (PgBouncer's and Supavisor's {@code auth_user}); its password may be
 *                   the password itself or a stored form, as any user's
 * @param query      one parameter ({@code $1}, the user name); returns the user name and its stored password
 *                   (a SCRAM-SHA-256 verifier or an MD5 hash), or no row
 * @param cacheTtl   how long a found secret is used before it is looked up again
 * @param failureTtl how long "no such user" is remembered; lookups that fail (upstream down) are not cached
 */
public record AuthQueryConfig(UserConfig user, String query, Duration cacheTtl, Duration failureTtl) {

    /** PgBouncer's default {@code auth_query}. */
    public static final String DEFAULT_QUERY = "SELECT usename, passwd FROM pg_shadow WHERE usename = $1";
    /** The function Supabase's images create, and its pooler uses. */
    public static final String SUPABASE_QUERY = "SELECT * FROM pgbouncer.get_auth($1)";
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofMinutes(1);
    public static final Duration DEFAULT_FAILURE_TTL = Duration.ofSeconds(5);

    public AuthQueryConfig {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(cacheTtl, "cacheTtl");
        Objects.requireNonNull(failureTtl, "failureTtl");
    }

    public static AuthQueryConfig of(UserConfig user, String query) {
        return new AuthQueryConfig(user, query, DEFAULT_CACHE_TTL, DEFAULT_FAILURE_TTL);
    }
}

package dev.pgmux.proxy.console;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * PgBouncer 1.25's SHOW columns, name:type in order, as its admin.c and stats.c describe them (s = text,
 * i = int4, N = numeric, T = a time, which PgBouncer sends as text). Written out here independently of
 * {@link ShowTable}, so that a test can hold pgmux's tables against them.
 */
public final class PgBouncerColumns {
    private PgBouncerColumns() {}

    private static final String SOCKETS = "type:text user:text database:text replication:text state:text addr:text"
            + " port:int4 local_addr:text local_port:int4 connect_time:text request_time:text wait:int4"
            + " wait_us:int4 close_needed:int4 ptr:text link:text remote_pid:int4 tls:text application_name:text"
            + " prepared_statements:int4 id:int4";

    private static final String STATS_FIELDS = " xact_count:numeric query_count:numeric bytes_received:numeric"
            + " bytes_sent:numeric xact_time:numeric query_time:numeric wait_time:numeric";

    public static final Map<String, String> BY_SHOW = Map.ofEntries(
            Map.entry("POOLS", "database:text user:text cl_active:int4 cl_waiting:int4 cl_active_cancel_req:int4"
                    + " cl_waiting_cancel_req:int4 sv_active:int4 sv_active_cancel:int4 sv_being_canceled:int4"
                    + " sv_idle:int4 sv_used:int4 sv_tested:int4 sv_login:int4 maxwait:int4 maxwait_us:int4"
                    + " pool_mode:text load_balance_hosts:text"),
            Map.entry("CLIENTS", SOCKETS),
            Map.entry("SERVERS", SOCKETS),
            Map.entry("STATS", "database:text total_server_assignment_count:numeric total_xact_count:numeric"
                    + " total_query_count:numeric total_received:numeric total_sent:numeric total_xact_time:numeric"
                    + " total_query_time:numeric total_wait_time:numeric total_client_parse_count:numeric"
                    + " total_server_parse_count:numeric total_bind_count:numeric avg_server_assignment_count:numeric"
                    + " avg_xact_count:numeric avg_query_count:numeric avg_recv:numeric avg_sent:numeric"
                    + " avg_xact_time:numeric avg_query_time:numeric avg_wait_time:numeric"
                    + " avg_client_parse_count:numeric avg_server_parse_count:numeric avg_bind_count:numeric"),
            Map.entry("STATS_TOTALS", "database:text server_assignment_count:numeric" + STATS_FIELDS
                    + " client_parse_count:numeric server_parse_count:numeric bind_count:numeric"),
            Map.entry("STATS_AVERAGES", "database:text server_assignment_count:numeric" + STATS_FIELDS
                    + " avg_client_parse_count:numeric avg_server_parse_count:numeric avg_bind_count:numeric"),
            Map.entry("DATABASES", "name:text host:text port:int4 database:text force_user:text pool_size:int4"
                    + " min_pool_size:int4 reserve_pool_size:int4 server_lifetime:int4 pool_mode:text"
                    + " load_balance_hosts:text max_connections:int4 current_connections:int4"
                    + " max_client_connections:int4 current_client_connections:int4 paused:int4 disabled:int4"),
            Map.entry("USERS", "name:text pool_size:text reserve_pool_size:text pool_mode:text"
                    + " max_user_connections:int4 current_connections:int4 max_user_client_connections:int4"
                    + " current_client_connections:int4"),
            Map.entry("CONFIG", "key:text value:text default:text changeable:text"),
            Map.entry("LISTS", "list:text items:int4"),
            Map.entry("PEERS", "peer_id:int4 host:text port:int4 pool_size:int4"),
            Map.entry("VERSION", "version:text"),
            Map.entry("STATE", "key:text value:text"));

    /** The SHOWs that are pgmux's own, with no PgBouncer columns to match. */
    public static final List<String> PGMUX_ONLY = List.of("PREPARED_STATEMENTS", "TENANTS");

    public static List<String> of(String show) {
        return Arrays.asList(BY_SHOW.get(show).split(" "));
    }
}

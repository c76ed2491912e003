package dev.pgmux.proxy.console;

import dev.pgmux.protocol.SqlState;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.console.ConsoleActions.ShutdownMode;
import dev.pgmux.proxy.prepared.StatementDef;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs console commands for one console user: every SHOW for admins and stats users, the other commands
 * for admins only ("admin access needed", as PgBouncer says). Errors keep PgBouncer's wording with the
 * SQLSTATE of their kind (PgBouncer sends 08P01 for all, which drivers and pools read as a broken connection).
 */
final class CommandRunner {
    static final String SYNTAX_ERROR = "42601";
    static final String INSUFFICIENT_PRIVILEGE = "42501";
    static final String NOT_IN_PREREQUISITE_STATE = "55000";
    static final String INVALID_PARAMETER_VALUE = "22023";
    static final String UNDEFINED_OBJECT = "42704";

    /** PgBouncer's answers to drivers that set or show session settings; SET is ignored with a notice. */
    private static final Map<String, String> FAKE_SETTINGS = Map.of("client_encoding", "UTF8",
            "default_transaction_isolation", "read committed", "standard_conforming_strings", "on",
            "datestyle", "ISO", "timezone", "GMT", "extra_float_digits", "2", "application_name", "");

    private final ProxyRuntime runtime;
    private final Console.User user;
    private final ConsoleCommands commands;

    CommandRunner(ProxyRuntime runtime, Console.User user, ConsoleCommands commands) {
        this.runtime = runtime;
        this.user = user;
        this.commands = commands;
    }

    /** The columns {@code command} answers with, or null when it answers without rows (Describe: NoData). */
    List<Column> columns(Command command) {
        if (!isShow(command)) {
            return null;
        }
        String what = command.argument().toLowerCase(Locale.ROOT);
        if (FAKE_SETTINGS.containsKey(what)) {
            return List.of(Column.text(what));
        }
        return ShowTable.named(what).map(ShowTable::columns).orElse(null);
    }

    Result run(Command command) {
        if (isShow(command)) {
            return show(command);
        }
        if (command.verb().equals("set")) {
            return set(command);
        }
        if (!isKnown(command.verb())) {
            return syntaxError(command);
        }
        if (user.role() != Console.Role.ADMIN) {
            return new Result.Failed(INSUFFICIENT_PRIVILEGE, "admin access needed");
        }
        return switch (command.verb()) {
            case "reload" -> command.hasArgument() ? syntaxError(command) : commands.reload();
            case "shutdown" -> shutdown(command);
            case "pause" -> commands.pause(command.argument());
            case "resume" -> commands.resume(command.argument());
            case "reconnect" -> commands.reconnect(command.argument());
            case "kill" -> commands.kill(command.argument());
            case "kill_client" -> commands.killClient(command.argument());
            case "wait_close" -> commands.waitClose(command.argument());
            default -> new Result.Failed(SqlState.FEATURE_NOT_SUPPORTED,
                    command.verb().toUpperCase(Locale.ROOT) + " is not supported by pgmux");
        };
    }

    private static boolean isShow(Command command) {
        return command.verb().equals("show") || command.verb().equals("select");
    }

    private static boolean isKnown(String verb) {
        return List.of("reload", "shutdown", "pause", "resume", "reconnect", "kill", "kill_client", "wait_close",
                "suspend", "disable", "enable").contains(verb);
    }

    private Result shutdown(Command command) {
        ShutdownMode mode;
        switch (command.argument().toLowerCase(Locale.ROOT)) {
            case "" -> mode = ShutdownMode.IMMEDIATE;
            case "wait_for_servers" -> mode = ShutdownMode.WAIT_FOR_SERVERS;
            case "wait_for_clients" -> mode = ShutdownMode.WAIT_FOR_CLIENTS;
            default -> {
                return syntaxError(command);
            }
        }
        return commands.shutdown(mode);
    }

    private Result set(Command command) {
        if (FAKE_SETTINGS.containsKey(command.argument().toLowerCase(Locale.ROOT))) {
            return new Result.Done("SET", new Result.Notice("SET ignored", null));
        }
        if (user.role() != Console.Role.ADMIN) {
            return new Result.Failed(INSUFFICIENT_PRIVILEGE, "admin access needed");
        }
        return new Result.Failed(SqlState.FEATURE_NOT_SUPPORTED,
                "SET failed: pgmux's settings change in its configuration file, then RELOAD");
    }

    private Result show(Command command) {
        String what = command.argument().toLowerCase(Locale.ROOT);
        String fake = FAKE_SETTINGS.get(what);
        if (fake != null) {
            return new Result.Rows(List.of(Column.text(what)), List.of(List.of(fake)), "SHOW");
        }
        if (what.equals("help")) {
            return new Result.Done("SHOW", new Result.Notice("Console usage", HELP));
        }
        return ShowTable.named(what).<Result>map(this::show).orElseGet(() -> syntaxError(command));
    }

    private Result.Rows show(ShowTable table) {
        return switch (table) {
            case POOLS -> ShowPools.rows(runtime);
            case CLIENTS -> ShowSockets.clients(runtime, commands.consoleClientRows());
            case SERVERS -> ShowSockets.servers(runtime);
            case STATS, STATS_TOTALS, STATS_AVERAGES -> ShowStats.rows(table, commands.sampler());
            case DATABASES -> ShowCatalog.databases(runtime);
            case USERS -> ShowCatalog.users(runtime);
            case TENANTS -> ShowCatalog.tenants(runtime);
            case LISTS -> ShowCatalog.lists(runtime);
            case PEERS -> ShowCatalog.peers(runtime);
            case CONFIG -> ShowConfig.rows(runtime.config(), commands.console());
            case VERSION -> Result.Rows.of(table, List.of(List.of("pgmux " + dev.pgmux.proxy.PgmuxVersion.get())));
            case STATE -> state();
            case PREPARED_STATEMENTS -> preparedStatements();
        };
    }

    private Result.Rows state() {
        boolean paused = runtime.pools().admin().isPaused(dev.pgmux.proxy.pool.PoolAdmin.Database.ALL);
        return Result.Rows.of(ShowTable.STATE, List.of(List.of("active", paused ? "no" : "yes"),
                List.of("paused", paused ? "yes" : "no"), List.of("suspended", "no")));
    }

    private Result.Rows preparedStatements() {
        List<List<Object>> rows = new ArrayList<>();
        for (StatementDef def : runtime.statements().definitions()) {
            String types = Arrays.stream(def.parameterTypes()).mapToObj(Integer::toString)
                    .collect(Collectors.joining(","));
            rows.add(Arrays.asList(def.serverName(), types, def.references(), def.query()));
        }
        return Result.Rows.of(ShowTable.PREPARED_STATEMENTS, rows);
    }

    private static Result.Failed syntaxError(Command command) {
        return syntaxError(command.sql());
    }

    /** PgBouncer's answer to what it cannot read. */
    static Result.Failed syntaxError(String sql) {
        return new Result.Failed(SYNTAX_ERROR, "invalid command '" + sql.strip() + "', use SHOW HELP;");
    }

    private static final String HELP = """

            \tSHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION
            \tSHOW LISTS|PEERS|STATE|TENANTS|PREPARED_STATEMENTS
            \tSHOW STATS|STATS_TOTALS|STATS_AVERAGES
            \tRELOAD
            \tPAUSE [<db>]
            \tRESUME [<db>]
            \tRECONNECT [<db>]
            \tKILL [<db>]
            \tKILL_CLIENT <client_id>
            \tSHUTDOWN
            \tSHUTDOWN WAIT_FOR_SERVERS|WAIT_FOR_CLIENTS
            \tWAIT_CLOSE [<db>]
            \t(<db> is database.tenant, as SHOW DATABASES names it)""";
}

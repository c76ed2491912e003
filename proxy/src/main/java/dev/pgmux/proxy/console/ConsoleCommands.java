package dev.pgmux.proxy.console;

import dev.pgmux.config.ConsoleConfig;
import dev.pgmux.protocol.SqlState;
import dev.pgmux.proxy.ProxyRuntime;
import dev.pgmux.proxy.client.ClientConnection;
import dev.pgmux.proxy.reload.ReloadResult;
import dev.pgmux.proxy.console.ConsoleActions.ShutdownMode;
import dev.pgmux.proxy.pool.PoolAdmin;
import dev.pgmux.proxy.pool.PoolAdmin.Database;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The console's commands that act, as PgBouncer documents them. A database argument is {@code database.tenant}
 * (see {@link ConsoleDatabase}); none means every database. PAUSE and WAIT_CLOSE answer once the servers
 * they wait for have closed.
 */
final class ConsoleCommands {
    private static final Logger log = LoggerFactory.getLogger(ConsoleCommands.class);
    /** How often a waiting PAUSE or WAIT_CLOSE looks again. */
    private static final long POLL_MILLIS = 50;

    private final ProxyRuntime runtime;
    private final ClientConnection self;
    private final EventExecutor loop;

    ConsoleCommands(ProxyRuntime runtime, ClientConnection self, EventExecutor loop) {
        this.runtime = runtime;
        this.self = self;
        this.loop = loop;
    }

    Console console() {
        return runtime.console();
    }

    StatsSampler sampler() {
        return runtime.console().sampler();
    }

    List<List<Object>> consoleClientRows() {
        return runtime.console().clientRows();
    }

    private PoolAdmin admin() {
        return runtime.pools().admin();
    }

    Result reload() {
        log.info("RELOAD command issued by {}", self);
        // What changed (or every problem) comes with the answer, as the log line has it; never a secret.
        return new Result.Later(console().actions().reloadConfiguration().thenApply(result -> switch (result) {
            case ReloadResult.Applied applied -> new Result.Done("RELOAD", new Result.Notice(applied.text(), null));
            case ReloadResult.Refused refused -> new Result.Failed("F0000", refused.text());
        }));
    }

    Result shutdown(ShutdownMode mode) {
        log.info("SHUTDOWN{} command issued by {}", mode == ShutdownMode.IMMEDIATE ? "" : " " + mode, self);
        try {
            console().actions().shutdown(mode);
        } catch (UnsupportedOperationException e) {
            return new Result.Failed(SqlState.FEATURE_NOT_SUPPORTED, e.getMessage());
        }
        // As PgBouncer: an immediate shutdown leaves the admin's connection open until the process is gone.
        return mode == ShutdownMode.IMMEDIATE ? new Result.Closing() : Result.Done.of("SHUTDOWN");
    }

    Result pause(String argument) {
        if (admin().isPaused(Database.ALL)) {
            return new Result.Failed(CommandRunner.NOT_IN_PREREQUISITE_STATE, "already suspended/paused");
        }
        return onDatabase(argument, "pause", database -> {
            log.info("PAUSE{} command issued by {}", describe(argument), self);
            admin().pause(database);
            return when(() -> admin().serversNotClosing(database) == 0, "PAUSE");
        });
    }

    Result resume(String argument) {
        return onDatabase(argument, "resume", database -> {
            if (!admin().isPausedOnItsOwn(database)) {
                return new Result.Failed(CommandRunner.NOT_IN_PREREQUISITE_STATE, argument.isEmpty()
                        ? "pooler is not paused/suspended" : "database " + argument + " is not paused");
            }
            log.info("RESUME{} command issued by {}", describe(argument), self);
            admin().resume(database);
            return Result.Done.of("RESUME");
        });
    }

    Result reconnect(String argument) {
        return onDatabase(argument, "reconnect", database -> {
            log.info("RECONNECT{} command issued by {}", describe(argument), self);
            admin().reconnect(database);
            return Result.Done.of("RECONNECT");
        });
    }

    Result kill(String argument) {
        if (admin().isPaused(Database.ALL)) {
            return new Result.Failed(CommandRunner.NOT_IN_PREREQUISITE_STATE, "already suspended/paused");
        }
        return onDatabase(argument, "kill", database -> {
            log.info("KILL{} command issued by {}", describe(argument), self);
            List<ClientConnection> killed = new java.util.ArrayList<>();
            for (ClientConnection client : runtime.clients().all()) {
                if (client.tenant() != null && client.database() != null && (database.tenant() == null
                        || (database.tenant().equals(client.tenant().id()) && database.database().equals(client.database())))) {
                    client.fatal(SqlState.ADMIN_SHUTDOWN, "database removed");
                    killed.add(client);
                }
            }
            admin().kill(database);
            return once(killed, "KILL");
        });
    }

    Result killClient(String argument) {
        long id;
        try {
            id = Long.parseLong(argument.trim());
        } catch (NumberFormatException e) {
            return new Result.Failed(CommandRunner.INVALID_PARAMETER_VALUE, "invalid client pointer supplied");
        }
        ClientConnection client = runtime.clients().find(id);
        if (client == null) {
            return new Result.Failed(CommandRunner.UNDEFINED_OBJECT, "client not found");
        }
        log.info("KILL_CLIENT {} command issued by {}: {}", id, self, client);
        client.fatal(SqlState.ADMIN_SHUTDOWN, "admin forced disconnect");
        return once(List.of(client), "KILL_CLIENT");
    }

    Result waitClose(String argument) {
        return onDatabase(argument, "wait in", database -> {
            log.info("WAIT_CLOSE{} command issued by {}", describe(argument), self);
            return when(() -> admin().closeNeeded(database) == 0, "WAIT_CLOSE");
        });
    }

    /** {@code command} on the database an argument names (ALL when none), or the error PgBouncer gives. */
    private Result onDatabase(String argument, String verb, java.util.function.Function<Database, Result> command) {
        if (argument.isEmpty()) {
            return command.apply(Database.ALL);
        }
        if (ConsoleConfig.isConsoleDatabase(argument)) {
            return new Result.Failed(CommandRunner.INVALID_PARAMETER_VALUE, "cannot " + verb + " admin db: " + argument);
        }
        ConsoleDatabase database = ConsoleDatabase.find(runtime.tenants(), argument);
        if (database == null) {
            return new Result.Failed(SqlState.INVALID_CATALOG_NAME, "no such database: " + argument
                    + " (databases are named database.tenant, see SHOW DATABASES)");
        }
        return command.apply(database.poolDatabase());
    }

    private static String describe(String argument) {
        return argument.isEmpty() ? "" : " '" + argument + "'";
    }

    /**
     * The answer once each of {@code ended} has been told its FATAL error on its own event loop (where
     * {@code fatal} ran it; tasks of a loop run in order): as with PgBouncer, by the time the admin reads the
     * answer, those clients are ended, and whatever they send next is not served.
     */
    private Result once(List<ClientConnection> ended, String tag) {
        if (ended.isEmpty()) {
            return Result.Done.of(tag);
        }
        CompletableFuture<?>[] told = new CompletableFuture<?>[ended.size()];
        for (int i = 0; i < told.length; i++) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            ended.get(i).channel().eventLoop().execute(() -> done.complete(null));
            told[i] = done;
        }
        return new Result.Later(CompletableFuture.allOf(told).thenApply(ignored -> Result.Done.of(tag)));
    }

    /** Done now when {@code done} holds, else once it does (looked at every {@value #POLL_MILLIS} ms). */
    private Result when(BooleanSupplier done, String tag) {
        if (done.getAsBoolean()) {
            return Result.Done.of(tag);
        }
        CompletableFuture<Result> result = new CompletableFuture<>();
        poll(done, tag, result);
        return new Result.Later(result);
    }

    private void poll(BooleanSupplier done, String tag, CompletableFuture<Result> result) {
        loop.schedule(() -> {
            if (result.isDone()) {
                return; // the admin left or cancelled
            }
            if (done.getAsBoolean()) {
                result.complete(Result.Done.of(tag));
            } else {
                poll(done, tag, result);
            }
        }, POLL_MILLIS, TimeUnit.MILLISECONDS);
    }
}

package dev.pgmux.loadtest.scenarios;

import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.Session;
import dev.pgmux.loadtest.dsl.Step;

import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ThreadLocalRandom;

import static dev.pgmux.loadtest.scenarios.OrmSql.expectCount;
import static dev.pgmux.loadtest.scenarios.OrmSql.expectEqual;
import static dev.pgmux.loadtest.scenarios.OrmSql.expectRows;
import static dev.pgmux.loadtest.scenarios.OrmSql.longAt;
import static dev.pgmux.loadtest.scenarios.OrmSql.rows;
import static dev.pgmux.loadtest.scenarios.OrmSql.update;

/**
 * The writes of the {@code orm} scenario: two short transactions and an autocommitted {@code UPDATE}. Rows are
 * locked in the order pgbench's TPC-B transaction locks them (accounts by key, then the teller, then the branch),
 * so they cannot deadlock with each other or with {@code tpcb}. Each statement checks the rows it changed.
 */
final class OrmWrites {
    private final PgbenchShape shape;

    OrmWrites(PgbenchShape shape) {
        this.shape = shape;
    }

    /** Draws the keys and amounts of one transaction into the session (untimed). */
    private Step draw() {
        return Dsl.exec((Session s) -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int a = r.nextInt(1, shape.accounts() + 1);
            int b = r.nextInt(1, shape.accounts() + 1);
            int bid = shape.branchOfAccount(a);
            s.set("orm.aid", Math.min(a, b)).set("orm.aid2", Math.max(a, b) == Math.min(a, b) ? -1 : Math.max(a, b))
                    .set("orm.bid", bid).set("orm.tid", shape.firstTellerOf(bid) + r.nextInt(shape.tellersPerBranch()))
                    .set("orm.delta", r.nextInt(-5000, 5001))
                    .set("orm.at", LocalDateTime.now().truncatedTo(ChronoUnit.MICROS));
        });
    }

    /** Read an account for update, add to its balance (the new balance must be the old plus the amount), log it. */
    Step deposit() {
        return Dsl.transaction("deposit", draw(),
                Dsl.exec("deposit: lock account", (c, s) -> {
                    var rows = rows(c, "SELECT abalance FROM loadtest_accounts WHERE aid = ? FOR UPDATE", s.getInt("orm.aid"));
                    expectRows(rows, 1);
                    s.set("orm.balance", longAt(rows.get(0), 1, "abalance"));
                }),
                Dsl.exec("deposit: update account", (c, s) -> {
                    var rows = rows(c, "UPDATE loadtest_accounts SET abalance = abalance + ? WHERE aid = ? RETURNING abalance",
                            s.getInt("orm.delta"), s.getInt("orm.aid"));
                    expectRows(rows, 1);
                    expectEqual(longAt(rows.get(0), 1, "abalance"), s.getLong("orm.balance") + s.getInt("orm.delta"),
                            "the balance after the update");
                }),
                Dsl.exec("deposit: insert history", (c, s) -> expectCount(update(c,
                        "INSERT INTO loadtest_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, ?)",
                        s.getInt("orm.tid"), s.getInt("orm.bid"), s.getInt("orm.aid"), s.getInt("orm.delta"), s.get("orm.at")), 1)));
    }

    /** From one account to another, booked on the first one's teller and branch; the history row returns its timestamp. */
    Step transfer() {
        return Dsl.transaction("transfer", draw(),
                Dsl.exec("transfer: debit account", (c, s) -> expectCount(update(c,
                        "UPDATE loadtest_accounts SET abalance = abalance - ? WHERE aid = ?", s.getInt("orm.delta"), s.getInt("orm.aid")), 1)),
                Dsl.exec("transfer: credit account", (c, s) -> {
                    int to = s.getInt("orm.aid2");
                    var rows = rows(c, "UPDATE loadtest_accounts SET abalance = abalance + ? WHERE aid = ? RETURNING aid, bid",
                            s.getInt("orm.delta"), to);
                    expectRows(rows, to < 0 ? 0 : 1); // -1: both draws were the same account
                    if (to > 0) {
                        expectEqual(longAt(rows.get(0), 2, "bid"), (long) shape.branchOfAccount(to), "the account's bid");
                    }
                }),
                Dsl.exec("transfer: update teller", (c, s) -> expectCount(update(c,
                        "UPDATE loadtest_tellers SET tbalance = tbalance + ? WHERE tid = ?", s.getInt("orm.delta"), s.getInt("orm.tid")), 1)),
                Dsl.exec("transfer: update branch", (c, s) -> expectCount(update(c,
                        "UPDATE loadtest_branches SET bbalance = bbalance + ? WHERE bid = ?", s.getInt("orm.delta"), s.getInt("orm.bid")), 1)),
                Dsl.exec("transfer: insert history", (c, s) -> {
                    var rows = rows(c, "INSERT INTO loadtest_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, ?) RETURNING mtime",
                            s.getInt("orm.tid"), s.getInt("orm.bid"), s.getInt("orm.aid"), s.getInt("orm.delta"), s.get("orm.at"));
                    expectRows(rows, 1);
                    Object mtime = rows.get(0).get(0);
                    expectEqual(mtime instanceof java.sql.Timestamp t ? t.toLocalDateTime() : mtime, s.get("orm.at"), "the mtime returned");
                }));
    }

    /** One autocommitted {@code UPDATE} of a teller. */
    Step adjustTeller() {
        return Dsl.exec("adjust teller", (c, s) -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            expectCount(update(c, "UPDATE loadtest_tellers SET tbalance = tbalance + ? WHERE tid = ?",
                    r.nextInt(-5000, 5001), r.nextInt(1, shape.tellers() + 1)), 1);
        });
    }
}

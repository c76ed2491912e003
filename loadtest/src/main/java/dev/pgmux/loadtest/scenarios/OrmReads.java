package dev.pgmux.loadtest.scenarios;

import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.Step;

import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static dev.pgmux.loadtest.scenarios.OrmSql.expect;
import static dev.pgmux.loadtest.scenarios.OrmSql.expectEqual;
import static dev.pgmux.loadtest.scenarios.OrmSql.expectRows;
import static dev.pgmux.loadtest.scenarios.OrmSql.longAt;
import static dev.pgmux.loadtest.scenarios.OrmSql.rows;

/**
 * The single-row reads of the {@code orm} scenario: lookups by primary key with parameters of different types,
 * and joins of an account or teller with its branch. Each checks what the {@link PgbenchShape} implies.
 */
final class OrmReads {
    private static final BigDecimal[] FACTORS = {new BigDecimal("1.0825"), new BigDecimal("0.5"), new BigDecimal("19.99")};

    private final PgbenchShape shape;

    OrmReads(PgbenchShape shape) {
        this.shape = shape;
    }

    private int aid() {
        return ThreadLocalRandom.current().nextInt(1, shape.accounts() + 1);
    }

    /** An account and its branch, by an {@code int} key. */
    Step accountById() {
        return Dsl.exec("account by id", (c, s) -> {
            int aid = aid();
            var rows = rows(c, "SELECT aid, bid, abalance FROM loadtest_accounts WHERE aid = ?", aid);
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 1, "aid"), (long) aid, "aid");
            expectEqual(longAt(rows.get(0), 2, "bid"), (long) shape.branchOfAccount(aid), "the account's bid");
        });
    }

    /** The same row by a {@code bigint} key, every column, as an entity load with {@code Long} ids does. */
    Step accountByBigintId() {
        return Dsl.exec("account by bigint id", (c, s) -> {
            long aid = aid();
            var rows = rows(c, "SELECT aid, bid, abalance, filler FROM loadtest_accounts WHERE aid = ?", aid);
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 1, "aid"), aid, "aid");
            expectEqual(longAt(rows.get(0), 2, "bid"), (long) shape.branchOfAccount(aid), "the account's bid");
        });
    }

    /** The key given as text, as ORMs do with string ids. */
    Step accountByTextKey() {
        return Dsl.exec("account by text key", (c, s) -> {
            int aid = aid();
            var rows = rows(c, "SELECT aid, bid FROM loadtest_accounts WHERE aid = CAST(? AS integer)", Integer.toString(aid));
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 1, "aid"), (long) aid, "aid");
        });
    }

    /** An existence check; a tenth of the keys asked for are beyond the last account and must not be found. */
    Step accountExists() {
        return Dsl.exec("account exists", (c, s) -> {
            int aid = ThreadLocalRandom.current().nextInt(1, shape.accounts() + shape.accounts() / 10 + 2);
            var rows = rows(c, "SELECT 1 FROM loadtest_accounts WHERE aid = ? LIMIT 1", aid);
            expectRows(rows, aid <= shape.accounts() ? 1 : 0);
        });
    }

    /** A text parameter in the select list. */
    Step accountLabel() {
        return Dsl.exec("account label", (c, s) -> {
            int aid = aid();
            String prefix = "acct-" + (char) ('a' + ThreadLocalRandom.current().nextInt(26)) + "-";
            var rows = rows(c, "SELECT aid, ? || aid AS label FROM loadtest_accounts WHERE aid = ?", prefix, aid);
            expectRows(rows, 1);
            expectEqual(rows.get(0).get(1), prefix + aid, "the label");
        });
    }

    /** A {@code numeric} parameter: the balance scaled by a factor, checked to the last digit. */
    Step accountScaled() {
        return Dsl.exec("account scaled balance", (c, s) -> {
            int aid = aid();
            BigDecimal factor = FACTORS[ThreadLocalRandom.current().nextInt(FACTORS.length)];
            var rows = rows(c, "SELECT aid, abalance, abalance * ? AS scaled FROM loadtest_accounts WHERE aid = ?", factor, aid);
            expectRows(rows, 1);
            long balance = longAt(rows.get(0), 2, "abalance");
            expect(rows.get(0).get(2) instanceof BigDecimal scaled && scaled.compareTo(factor.multiply(BigDecimal.valueOf(balance))) == 0,
                    "the scaled balance is not abalance * factor");
        });
    }

    /** A {@code timestamp} parameter, truncated by the server. */
    Step accountAsOfDay() {
        return Dsl.exec("account as of day", (c, s) -> {
            int aid = aid();
            LocalDateTime at = LocalDateTime.of(2020, 1, 1, 0, 0).plusSeconds(ThreadLocalRandom.current().nextLong(0, 200_000_000L))
                    .plusNanos(ThreadLocalRandom.current().nextInt(1_000_000) * 1000L);
            var rows = rows(c, "SELECT aid, abalance, date_trunc('day', ?::timestamp) AS day FROM loadtest_accounts WHERE aid = ?", at, aid);
            expectRows(rows, 1);
            Object day = rows.get(0).get(2);
            expect(day instanceof java.sql.Timestamp t && t.toLocalDateTime().equals(at.truncatedTo(ChronoUnit.DAYS)),
                    "date_trunc('day', the timestamp sent) is not its day");
        });
    }

    Step tellerById() {
        return Dsl.exec("teller by id", (c, s) -> {
            int tid = ThreadLocalRandom.current().nextInt(1, shape.tellers() + 1);
            var rows = rows(c, "SELECT tid, bid, tbalance FROM loadtest_tellers WHERE tid = ?", tid);
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 2, "bid"), (long) shape.branchOfTeller(tid), "the teller's bid");
        });
    }

    Step branchById() {
        return Dsl.exec("branch by id", (c, s) -> {
            int bid = ThreadLocalRandom.current().nextInt(1, shape.scale() + 1);
            var rows = rows(c, "SELECT bid, bbalance FROM loadtest_branches WHERE bid = ?", bid);
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 1, "bid"), (long) bid, "bid");
        });
    }

    /** An account joined with its branch. */
    Step accountWithBranch() {
        return Dsl.exec("account with branch", (c, s) -> {
            int aid = aid();
            var rows = rows(c, "SELECT a.aid, a.abalance, b.bid, b.bbalance FROM loadtest_accounts a"
                    + " JOIN loadtest_branches b ON b.bid = a.bid WHERE a.aid = ?", aid);
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 3, "bid"), (long) shape.branchOfAccount(aid), "the branch joined");
        });
    }

    /** A teller joined with its branch. */
    Step tellerWithBranch() {
        return Dsl.exec("teller with branch", (c, s) -> {
            int tid = ThreadLocalRandom.current().nextInt(1, shape.tellers() + 1);
            var rows = rows(c, "SELECT t.tid, t.tbalance, b.bid, b.bbalance FROM loadtest_tellers t"
                    + " JOIN loadtest_branches b USING (bid) WHERE t.tid = ?", tid);
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 3, "bid"), (long) shape.branchOfTeller(tid), "the branch joined");
        });
    }

    /** An account, its branch and the branch's tellers: three tables, one row per teller. */
    Step accountBranchTellers() {
        return Dsl.exec("account, branch and tellers", (c, s) -> {
            int aid = aid();
            int bid = shape.branchOfAccount(aid);
            var rows = rows(c, "SELECT a.aid, b.bid, t.tid, t.tbalance FROM loadtest_accounts a"
                    + " JOIN loadtest_branches b ON b.bid = a.bid JOIN loadtest_tellers t ON t.bid = b.bid"
                    + " WHERE a.aid = ? ORDER BY t.tid", aid);
            expectRows(rows, shape.tellersPerBranch());
            for (int i = 0; i < rows.size(); i++) {
                expectEqual(longAt(rows.get(i), 3, "tid"), (long) shape.firstTellerOf(bid) + i, "a teller of the account's branch");
            }
        });
    }

    List<Step> all() {
        return List.of(accountById(), accountByBigintId(), accountByTextKey(), accountExists(), accountLabel(),
                accountScaled(), accountAsOfDay(), tellerById(), branchById(), accountWithBranch(), tellerWithBranch(),
                accountBranchTellers());
    }
}

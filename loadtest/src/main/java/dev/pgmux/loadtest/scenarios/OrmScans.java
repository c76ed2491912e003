package dev.pgmux.loadtest.scenarios;

import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.Step;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;

import static dev.pgmux.loadtest.scenarios.OrmSql.expectEqual;
import static dev.pgmux.loadtest.scenarios.OrmSql.expectRows;
import static dev.pgmux.loadtest.scenarios.OrmSql.longAt;
import static dev.pgmux.loadtest.scenarios.OrmSql.rows;

/**
 * The multi-row reads of the {@code orm} scenario: pages with {@code LIMIT}, {@code IN} lists of several lengths
 * (a statement text per length, as ORMs write them), {@code = ANY} of an array, aggregates with {@code GROUP BY}.
 * Row counts and keys are checked against the {@link PgbenchShape}; balances change under load and are not.
 */
final class OrmScans {
    /** Below every {@code int} balance: {@code abalance > ?} holds for every row. */
    private static final BigDecimal BELOW_ANY_INT = new BigDecimal("-2147483648.5");

    private final PgbenchShape shape;

    OrmScans(PgbenchShape shape) {
        this.shape = shape;
    }

    /** Keyset pagination: the {@code limit} accounts after a key. */
    Step accountsPage(int limit) {
        return Dsl.exec("accounts page of " + limit, (c, s) -> {
            int after = ThreadLocalRandom.current().nextInt(0, shape.accounts() + 1);
            var rows = rows(c, "SELECT aid, bid, abalance FROM loadtest_accounts WHERE aid > ? ORDER BY aid LIMIT " + limit, after);
            expectRows(rows, Math.min(limit, shape.accounts() - after));
            for (int i = 0; i < rows.size(); i++) {
                expectEqual(longAt(rows.get(i), 1, "aid"), (long) after + 1 + i, "an aid of the page");
            }
        });
    }

    /** The newest accounts of a branch up to a key, newest first. */
    Step branchAccountsDescending() {
        return Dsl.exec("branch accounts, newest first", (c, s) -> {
            int upTo = ThreadLocalRandom.current().nextInt(1, shape.accounts() + 1);
            int bid = shape.branchOfAccount(upTo);
            var rows = rows(c, "SELECT aid, abalance FROM loadtest_accounts WHERE bid = ? AND aid <= ? ORDER BY aid DESC LIMIT 10",
                    bid, upTo);
            expectRows(rows, Math.min(10, upTo - shape.firstAccountOf(bid) + 1));
            for (int i = 0; i < rows.size(); i++) {
                expectEqual(longAt(rows.get(i), 1, "aid"), (long) upTo - i, "an aid of the page");
            }
        });
    }

    /** {@code aid IN (?, ..., ?)} with {@code n} distinct keys. */
    Step accountsIn(int n) {
        return Dsl.exec("accounts in list of " + n, (c, s) -> {
            TreeSet<Integer> ids = new TreeSet<>();
            while (ids.size() < Math.min(n, shape.accounts())) {
                ids.add(ThreadLocalRandom.current().nextInt(1, shape.accounts() + 1));
            }
            String marks = String.join(", ", Collections.nCopies(ids.size(), "?"));
            var rows = rows(c, "SELECT aid, bid, abalance FROM loadtest_accounts WHERE aid IN (" + marks + ") ORDER BY aid",
                    ids.toArray());
            expectRows(rows, ids.size());
            int i = 0;
            for (int id : ids) {
                expectEqual(longAt(rows.get(i++), 1, "aid"), (long) id, "an aid of the list");
            }
        });
    }

    /** {@code aid = ANY(?)} with an {@code int[]}: repeated keys and keys beyond the last account included. */
    Step accountsAnyOf() {
        return Dsl.exec("accounts any of array", (c, s) -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            List<Integer> ids = new ArrayList<>();
            for (int i = r.nextInt(1, 13); i > 0; i--) {
                ids.add(r.nextInt(1, shape.accounts() + shape.accounts() / 10 + 2));
            }
            if (ids.size() > 1) {
                ids.add(ids.get(0));
            }
            TreeSet<Integer> expected = new TreeSet<>(ids);
            expected.removeIf(id -> id > shape.accounts());
            var rows = rows(c, "SELECT aid FROM loadtest_accounts WHERE aid = ANY(?) ORDER BY aid", new OrmSql.IntArray(ids));
            expectRows(rows, expected.size());
            int i = 0;
            for (int id : expected) {
                expectEqual(longAt(rows.get(i++), 1, "aid"), (long) id, "an aid of the array");
            }
        });
    }

    /** The tellers of a branch, in order. */
    Step tellersOfBranch() {
        return Dsl.exec("tellers of branch", (c, s) -> {
            int bid = ThreadLocalRandom.current().nextInt(1, shape.scale() + 1);
            var rows = rows(c, "SELECT tid, tbalance FROM loadtest_tellers WHERE bid = ? ORDER BY tid", bid);
            expectRows(rows, shape.tellersPerBranch());
            for (int i = 0; i < rows.size(); i++) {
                expectEqual(longAt(rows.get(i), 1, "tid"), (long) shape.firstTellerOf(bid) + i, "a teller of the branch");
            }
        });
    }

    /** Tellers whose number, as text, starts with a digit: a {@code LIKE} pattern parameter. */
    Step tellersLike() {
        return Dsl.exec("tellers like pattern", (c, s) -> {
            char digit = (char) ('1' + ThreadLocalRandom.current().nextInt(9));
            var rows = rows(c, "SELECT tid FROM loadtest_tellers WHERE tid::text LIKE ? ORDER BY tid", digit + "%");
            List<Long> expected = new ArrayList<>();
            for (long tid = 1; tid <= shape.tellers(); tid++) {
                if (Long.toString(tid).charAt(0) == digit) {
                    expected.add(tid);
                }
            }
            expectRows(rows, expected.size());
            for (int i = 0; i < rows.size(); i++) {
                expectEqual(longAt(rows.get(i), 1, "tid"), expected.get(i), "a teller matching the pattern");
            }
        });
    }

    /** Accounts of a key range counted and summed per branch ({@code GROUP BY}). */
    Step rangePerBranch() {
        return Dsl.exec("accounts per branch in range", (c, s) -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int lo = r.nextInt(1, shape.accounts() + 1);
            int hi = Math.min(shape.accounts(), lo + r.nextInt(0, 200));
            var rows = rows(c, "SELECT bid, count(*), sum(abalance) FROM loadtest_accounts WHERE aid BETWEEN ? AND ?"
                    + " GROUP BY bid ORDER BY bid", lo, hi);
            int first = shape.branchOfAccount(lo);
            expectRows(rows, shape.branchOfAccount(hi) - first + 1);
            for (int i = 0; i < rows.size(); i++) {
                int bid = first + i;
                long count = Math.min(hi, (long) shape.firstAccountOf(bid) + shape.accountsPerBranch() - 1)
                        - Math.max(lo, shape.firstAccountOf(bid)) + 1;
                expectEqual(longAt(rows.get(i), 1, "bid"), (long) bid, "a branch of the range");
                expectEqual(longAt(rows.get(i), 2, "count"), count, "the branch's count of accounts in the range");
                longAt(rows.get(i), 3, "the sum of balances");
            }
        });
    }

    /** A count with a {@code numeric} bound that every {@code int} balance passes. */
    Step rangeAboveBound() {
        return Dsl.exec("accounts above numeric bound", (c, s) -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int lo = r.nextInt(1, shape.accounts() + 1);
            int hi = Math.min(shape.accounts(), lo + r.nextInt(0, 100));
            var rows = rows(c, "SELECT count(*) FROM loadtest_accounts WHERE aid BETWEEN ? AND ? AND abalance > ?",
                    lo, hi, BELOW_ANY_INT);
            expectRows(rows, 1);
            expectEqual(longAt(rows.get(0), 1, "count"), (long) hi - lo + 1, "the count of accounts in the range");
        });
    }

    /** Tellers counted per branch over the whole table. */
    Step tellersPerBranch() {
        return Dsl.exec("tellers per branch", (c, s) -> {
            int min = ThreadLocalRandom.current().nextInt(1, shape.scale() + 1);
            var rows = rows(c, "SELECT bid, count(*), sum(tbalance) FROM loadtest_tellers WHERE bid >= ? GROUP BY bid ORDER BY bid", min);
            expectRows(rows, shape.scale() - min + 1);
            for (int i = 0; i < rows.size(); i++) {
                expectEqual(longAt(rows.get(i), 1, "bid"), (long) min + i, "a branch");
                expectEqual(longAt(rows.get(i), 2, "count"), (long) shape.tellersPerBranch(), "the branch's count of tellers");
            }
        });
    }
}

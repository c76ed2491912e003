package dev.pgmux.loadtest.scenarios;

import dev.pgmux.loadtest.dsl.Dsl;
import dev.pgmux.loadtest.dsl.Step;

import java.util.ArrayList;
import java.util.List;

/**
 * The statement mix of the {@code orm} scenario: {@value #CHOICES} kinds of request (34 distinct statement texts),
 * ranked from the most to the least frequent, the request of rank {@code k} drawn with a weight of
 * {@code 1 / k^s} (a Zipf distribution, {@code s} = {@value #DEFAULT_SKEW} by default): the first three make up
 * almost half of the requests and the last ones about one percent each, as in an application whose few hot
 * paths dominate. About 6% of the requests write (two short transactions and an autocommitted UPDATE).
 */
public final class OrmWorkload {
    public static final int CHOICES = 27;
    public static final double DEFAULT_SKEW = 1.0;

    private OrmWorkload() {}

    /** The requests in rank order, most frequent first. */
    public static List<Step> ranked(PgbenchShape shape) {
        OrmReads reads = new OrmReads(shape);
        OrmScans scans = new OrmScans(shape);
        OrmWrites writes = new OrmWrites(shape);
        List<Step> ranked = List.of(
                reads.accountById(),
                reads.accountWithBranch(),
                scans.tellersOfBranch(),
                scans.accountsPage(20),
                reads.accountExists(),
                reads.tellerById(),
                reads.accountByBigintId(),
                writes.deposit(),
                scans.accountsIn(4),
                reads.accountLabel(),
                reads.branchById(),
                reads.accountBranchTellers(),
                scans.rangePerBranch(),
                scans.branchAccountsDescending(),
                writes.transfer(),
                reads.tellerWithBranch(),
                reads.accountScaled(),
                scans.accountsIn(2),
                reads.accountByTextKey(),
                scans.tellersPerBranch(),
                writes.adjustTeller(),
                scans.rangeAboveBound(),
                scans.accountsIn(8),
                scans.tellersLike(),
                reads.accountAsOfDay(),
                scans.accountsPage(50),
                scans.accountsAnyOf());
        if (ranked.size() != CHOICES) {
            throw new IllegalStateException("the orm mix has " + ranked.size() + " requests, not " + CHOICES);
        }
        return ranked;
    }

    /** Zipf weights {@code 1 / k^skew} for ranks 1 to {@code n}, summing to 1. */
    public static double[] zipf(int n, double skew) {
        if (n < 1 || !(skew >= 0) || Double.isInfinite(skew)) {
            throw new IllegalArgumentException("zipf needs n >= 1 and a finite skew >= 0, got " + n + ", " + skew);
        }
        double[] w = new double[n];
        double total = 0;
        for (int k = 1; k <= n; k++) {
            w[k - 1] = 1 / Math.pow(k, skew);
            total += w[k - 1];
        }
        for (int i = 0; i < n; i++) {
            w[i] /= total;
        }
        return w;
    }

    /** One request of the mix per execution, drawn with Zipf weights of {@code skew}. */
    public static Step step(PgbenchShape shape, double skew) {
        List<Step> ranked = ranked(shape);
        double[] weights = zipf(ranked.size(), skew);
        List<Step.Choice> choices = new ArrayList<>();
        for (int i = 0; i < ranked.size(); i++) {
            choices.add(Dsl.choice(weights[i], ranked.get(i)));
        }
        return Dsl.randomSwitch(choices);
    }

    /** The name a request of the mix is recorded under (a transaction's own name for the writes in one). */
    public static String name(Step step) {
        return switch (step) {
            case Step.Exec e -> e.name();
            case Step.Transaction t -> t.name();
            default -> throw new IllegalArgumentException("not a request of the orm mix: " + step);
        };
    }
}

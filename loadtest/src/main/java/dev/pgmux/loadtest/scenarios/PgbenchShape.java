package dev.pgmux.loadtest.scenarios;

/**
 * What the {@link PgbenchSchema} tables hold at a scale, whatever the balances: {@code scale} branches,
 * {@code tellersPerBranch} tellers and {@code accountsPerBranch} accounts per branch, numbered from 1, teller
 * {@code t} and account {@code a} in the branches {@code (t - 1) / tellersPerBranch + 1} and
 * {@code (a - 1) / accountsPerBranch + 1}. The checks of the {@code orm} scenario compare results with it.
 */
public record PgbenchShape(int scale, int tellersPerBranch, int accountsPerBranch) {
    public PgbenchShape {
        if (scale < 1 || tellersPerBranch < 1 || accountsPerBranch < 1) {
            throw new IllegalArgumentException("a pgbench shape needs positive sizes, got scale " + scale + ", "
                    + tellersPerBranch + " tellers and " + accountsPerBranch + " accounts per branch");
        }
    }

    /** The tables {@link PgbenchSchema#ensure} creates at {@code scale}. */
    public static PgbenchShape of(int scale) {
        return new PgbenchShape(scale, PgbenchSchema.TELLERS_PER_BRANCH, PgbenchSchema.ACCOUNTS_PER_BRANCH);
    }

    public int accounts() {
        return scale * accountsPerBranch;
    }

    public int tellers() {
        return scale * tellersPerBranch;
    }

    public int branchOfAccount(long aid) {
        return (int) ((aid - 1) / accountsPerBranch + 1);
    }

    public int branchOfTeller(long tid) {
        return (int) ((tid - 1) / tellersPerBranch + 1);
    }

    public int firstAccountOf(int bid) {
        return (bid - 1) * accountsPerBranch + 1;
    }

    public int firstTellerOf(int bid) {
        return (bid - 1) * tellersPerBranch + 1;
    }
}

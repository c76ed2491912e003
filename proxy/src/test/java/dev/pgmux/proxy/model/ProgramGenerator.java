package dev.pgmux.proxy.model;

import dev.pgmux.proxy.model.Program.Batch;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Random, seeded programs over a small vocabulary of extended-protocol messages and simple queries. A rough
 * shadow of the session (which names exist, whether a transaction is open or failed) steers the choices
 * toward sequences that mostly succeed, with errors (bad SQL, unknown and duplicate names, bad parameter
 * values, division by zero) in the middle of batches. The shadow is deliberately approximate: where it is
 * wrong the program simply meets more errors, which is fine, since both sides get the same program.
 *
 * <p>The unnamed statement is only used in the unit that parsed it unless {@link Feature#UNNAMED_ACROSS_UNITS}
 * is asked for: without {@code cache_unnamed_statements} pgmux forwards it as it is and, like every
 * transaction-mode pooler, cannot keep it across a server change (documented in configuration.md).
 */
final class ProgramGenerator {

    /** Parts of the vocabulary that can be left out, to look past a known difference. */
    enum Feature {
        /** Statements with a parameter, and bad parameter values (errors in Bind). */
        PARAMS,
        /** Binds with the wrong number of parameters (08P01, whose message names the statement). */
        WRONG_PARAM_COUNT,
        /** A statement that fails to parse. */
        INVALID_SQL,
        /** A statement that fails when executed (division by zero). */
        EXEC_ERROR,
        /** BEGIN / COMMIT / ROLLBACK, and so failed transactions. */
        TRANSACTIONS,
        /** PREPARE q / EXECUTE q / DEALLOCATE q / DEALLOCATE ALL / DISCARD ALL, and the name q in the extended protocol. */
        SQL_PREPARE,
        /** Several units written at once before reading. */
        PIPELINE,
        /** Close of a statement (Close of a portal stays). */
        CLOSE_STATEMENT,
        /**
         * Opt-in: the unnamed statement bound and described in later units than the one that parsed it, as a
         * direct server allows until a simple Query, a Close or another unnamed Parse (needs
         * {@code cache_unnamed_statements}).
         */
        UNNAMED_ACROSS_UNITS,
        /** Opt-in: one text parsed with different parameter types (int4, text, unspecified). */
        PARAM_TYPES;

        /** The features a program has only when asked for: the sweeps that do not ask leave them out. */
        static final Set<Feature> OPT_IN = EnumSet.of(UNNAMED_ACROSS_UNITS, PARAM_TYPES);

        static Set<Feature> parse(String list) {
            Set<Feature> features = EnumSet.noneOf(Feature.class);
            if (list == null || list.isBlank()) {
                return features;
            }
            for (String name : list.split(",")) {
                if (!name.isBlank()) {
                    features.add(valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_')));
                }
            }
            return features;
        }
    }

    static final String SELECT_1 = "SELECT 1";
    static final String PLUS_ONE = "SELECT $1::int + 1";
    static final String SELECT_X = "SELECT 'x'";
    static final String INVALID = "SELEC 1";
    static final String DIV_ZERO = "SELECT 1/0";
    static final String SERIES = "SELECT generate_series(1,3)";
    /** One parameter of whichever type the Parse gives it (or text, unspecified). */
    static final String ECHO = "SELECT $1 AS v";
    private static final int[] ECHO_TYPES = {-1, 23, 25, 0};

    private static final String[] NAMES = {"s1", "s2", "s3"};

    private final Random random;
    private final Set<Feature> excluded;
    private final List<String> sqls = new ArrayList<>();

    // --- the shadow ---
    private final Map<String, String> statements = new HashMap<>();
    private final Map<String, String> portals = new HashMap<>();
    private char transaction = 'I';
    private boolean unitFailed;
    private String unnamed;

    ProgramGenerator(long seed, Set<Feature> excluded) {
        this.random = new Random(seed);
        this.excluded = excluded;
        sqls.add(SELECT_1);
        sqls.add(SELECT_X);
        sqls.add(SERIES);
        if (on(Feature.PARAMS)) {
            sqls.add(PLUS_ONE);
        }
        if (on(Feature.INVALID_SQL)) {
            sqls.add(INVALID);
        }
        if (on(Feature.EXEC_ERROR)) {
            sqls.add(DIV_ZERO);
        }
        if (on(Feature.PARAM_TYPES)) {
            sqls.add(ECHO);
        }
    }

    /** A program without the {@link Feature#OPT_IN} features, nor the {@code excluded} ones. */
    static Program generate(long seed, Set<Feature> excluded) {
        Set<Feature> without = EnumSet.copyOf(Feature.OPT_IN);
        without.addAll(excluded);
        return PostgresHazard.avoided(new ProgramGenerator(seed, without).program(seed));
    }

    /** A program with the {@code optIn} features, without the other opt-in ones nor the {@code excluded}. */
    static Program generate(long seed, Set<Feature> excluded, Set<Feature> optIn) {
        Set<Feature> without = EnumSet.copyOf(Feature.OPT_IN);
        without.removeAll(optIn);
        without.addAll(excluded);
        return PostgresHazard.avoided(new ProgramGenerator(seed, without).program(seed));
    }

    private boolean on(Feature feature) {
        return !excluded.contains(feature);
    }

    private Program program(long seed) {
        int count = 5 + random.nextInt(26);
        List<Batch> batches = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            List<Op> ops = new ArrayList<>();
            int units = on(Feature.PIPELINE) && random.nextInt(7) == 0 ? 2 + random.nextInt(2) : 1;
            for (int u = 0; u < units; u++) {
                if (random.nextInt(100) < 18) {
                    ops.add(query());
                } else {
                    ops.addAll(unit());
                }
            }
            batches.add(new Batch(List.copyOf(ops), random.nextBoolean()));
        }
        return new Program(seed, List.copyOf(batches));
    }

    // --- simple queries ---

    private Op query() {
        List<String> choices = new ArrayList<>(List.of("SELECT 1"));
        if (on(Feature.TRANSACTIONS)) {
            choices.addAll(List.of("BEGIN", "BEGIN", "COMMIT", "ROLLBACK"));
            if (on(Feature.EXEC_ERROR)) {
                choices.add("SELECT 1/0");
            }
        }
        if (on(Feature.SQL_PREPARE)) {
            choices.addAll(List.of("PREPARE q AS SELECT 2", "EXECUTE q", "EXECUTE q", "DEALLOCATE q"));
            if (random.nextInt(4) == 0) {
                choices.add("DEALLOCATE ALL");
            }
            if (random.nextInt(6) == 0) {
                choices.add("DISCARD ALL");
            }
        }
        String sql = choices.get(random.nextInt(choices.size()));
        boolean failed = transaction == 'E' && !sql.equals("COMMIT") && !sql.equals("ROLLBACK");
        if (!failed) {
            switch (sql) {
                case "BEGIN" -> transaction = 'T';
                case "COMMIT", "ROLLBACK" -> transaction = 'I';
                case "SELECT 1/0" -> failed = true;
                case "PREPARE q AS SELECT 2" -> failed = statements.putIfAbsent("q", "SELECT 2") != null;
                case "EXECUTE q" -> failed = !statements.containsKey("q");
                case "DEALLOCATE q" -> failed = statements.remove("q") == null;
                case "DEALLOCATE ALL" -> statements.clear();
                case "DISCARD ALL" -> {
                    failed = transaction != 'I'; // not inside a transaction block
                    if (!failed) {
                        statements.clear();
                    }
                }
                default -> { }
            }
        }
        if (sql.equals("COMMIT") || sql.equals("ROLLBACK")) {
            transaction = 'I';
        } else if (failed && transaction == 'T') {
            transaction = 'E';
        }
        if (transaction == 'I') {
            portals.clear();
        }
        unnamed = null; // a simple Query drops the unnamed statement
        return Op.query(sql);
    }

    // --- extended-protocol units ---

    private List<Op> unit() {
        unitFailed = transaction == 'E';
        if (!on(Feature.UNNAMED_ACROSS_UNITS)) {
            unnamed = null;
        }
        // Planned first, generated in order: the shadow then sees the messages as the server will.
        List<Supplier<Op>> plan = random.nextBoolean() ? template() : new ArrayList<>();
        int extra = plan.isEmpty() ? 1 + random.nextInt(7) : random.nextInt(3);
        for (int i = 0; i < extra; i++) {
            // Mostly append; sometimes insert before the template's tail, so errors land mid-batch.
            int at = !plan.isEmpty() && random.nextInt(3) == 0 ? random.nextInt(plan.size()) : plan.size();
            plan.add(at, this::randomMessage);
        }
        if (random.nextInt(10) == 0) {
            plan.add(random.nextInt(plan.size() + 1), Op::flush); // as drivers do: a Flush before the Sync
        }
        List<Op> ops = new ArrayList<>(plan.size() + 1);
        plan.forEach(step -> ops.add(step.get()));
        ops.add(Op.sync());
        if (unitFailed && transaction == 'T') {
            transaction = 'E';
        }
        if (transaction == 'I') {
            portals.clear();
        }
        if (!on(Feature.UNNAMED_ACROSS_UNITS)) {
            unnamed = null;
        }
        return ops;
    }

    /** What a driver sends: prepare-and-run, run a prepared name, prepare-and-describe, describe. */
    private List<Supplier<Op>> template() {
        List<Supplier<Op>> plan = new ArrayList<>();
        switch (random.nextInt(5)) {
            case 0, 1 -> {
                String name = random.nextInt(3) == 0 ? "" : pick(NAMES);
                String portal = portalName();
                String sql = pickSql();
                plan.add(() -> parse(name, sql));
                plan.add(() -> bind(portal, name));
                plan.add(() -> describePortal(portal));
                plan.add(() -> execute(portal));
            }
            case 2 -> {
                String portal = portalName();
                // A driver's second run of its last query: Bind and Execute of the unnamed statement.
                boolean previous = unnamed != null && on(Feature.UNNAMED_ACROSS_UNITS) && random.nextBoolean();
                plan.add(() -> bind(portal, previous ? "" : knownName()));
                plan.add(() -> execute(portal));
            }
            case 3 -> {
                String name = pick(NAMES);
                String sql = pickSql();
                plan.add(() -> parse(name, sql));
                plan.add(() -> describeStatement(name));
            }
            default -> plan.add(() -> describeStatement(knownName()));
        }
        return plan;
    }

    private Op randomMessage() {
        int roll = random.nextInt(100);
        if (roll < 22) {
            String name = random.nextInt(4) == 0 ? "" : random.nextInt(20) == 0 && on(Feature.SQL_PREPARE) ? "q" : pick(NAMES);
            return parse(name, pickSql());
        } else if (roll < 46) {
            return bind(portalName(), statementName());
        } else if (roll < 56) {
            return describeStatement(statementName());
        } else if (roll < 64) {
            return describePortal(portalName());
        } else if (roll < 86) {
            return execute(portalName());
        } else if (roll < 96 && on(Feature.CLOSE_STATEMENT)) {
            String name = random.nextInt(6) == 0 ? "" : statementName();
            if (!unitFailed) {
                if (name.isEmpty()) {
                    unnamed = null;
                } else {
                    statements.remove(name);
                }
            }
            return Op.closeStatement(name);
        } else {
            String portal = portalName();
            if (!unitFailed) {
                portals.remove(portal);
            }
            return Op.closePortal(portal);
        }
    }

    private Op parse(String name, String sql) {
        if (!unitFailed) {
            if (sql.equals(INVALID) && name.isEmpty()) {
                unitFailed = true;
                unnamed = null; // Postgres drops the previous unnamed statement before it parses
            } else if (sql.equals(INVALID) || (!name.isEmpty() && statements.containsKey(name))) {
                unitFailed = true;
            } else if (name.isEmpty()) {
                unnamed = sql;
            } else {
                statements.put(name, sql);
            }
        }
        if (sql.equals(ECHO)) {
            int type = ECHO_TYPES[random.nextInt(ECHO_TYPES.length)];
            return type < 0 ? Op.parse(name, sql) : Op.parse(name, sql, type);
        }
        return Op.parse(name, sql);
    }

    private Op bind(String portal, String statement) {
        String sql = statement.isEmpty() ? unnamed : statements.get(statement);
        int count = PLUS_ONE.equals(sql) || ECHO.equals(sql) ? 1 : 0;
        if (on(Feature.WRONG_PARAM_COUNT) && random.nextInt(25) == 0) {
            count = 1 - count;
        }
        List<String> parameters = new ArrayList<>();
        boolean badValue = false;
        for (int i = 0; i < count; i++) {
            badValue = random.nextInt(8) == 0;
            parameters.add(badValue ? "abc" : Integer.toString(random.nextInt(100)));
        }
        if (!unitFailed) {
            boolean duplicatePortal = !portal.isEmpty() && portals.containsKey(portal);
            if (sql == null || badValue || duplicatePortal || count != (PLUS_ONE.equals(sql) || ECHO.equals(sql) ? 1 : 0)) {
                unitFailed = true;
            } else {
                portals.put(portal, sql);
            }
        }
        return new Op.Bind(portal, statement, List.copyOf(parameters));
    }

    private Op describePortal(String portal) {
        if (!portals.containsKey(portal)) {
            unitFailed = true;
        }
        return new Op.Describe('P', portal);
    }

    private Op describeStatement(String name) {
        if (!unitFailed && (name.isEmpty() ? unnamed == null : !statements.containsKey(name))) {
            unitFailed = true;
        }
        return new Op.Describe('S', name);
    }

    private Op execute(String portal) {
        String sql = portals.get(portal);
        if (!unitFailed && (sql == null || sql.equals(DIV_ZERO))) {
            unitFailed = true;
        }
        return Op.execute(portal, random.nextInt(4) == 0 ? 1 : 0);
    }

    /** Mostly a name the shadow knows, sometimes any name (an unknown one gives 26000). */
    private String statementName() {
        if (unnamed != null && random.nextInt(4) == 0) {
            return "";
        }
        if (random.nextInt(4) == 0) {
            return on(Feature.SQL_PREPARE) && random.nextInt(6) == 0 ? "q" : pick(NAMES);
        }
        return knownName();
    }

    private String knownName() {
        List<String> known = new ArrayList<>(statements.keySet());
        known.sort(null);
        if (known.isEmpty()) {
            return pick(NAMES);
        }
        return known.get(random.nextInt(known.size()));
    }

    private String portalName() {
        return on(Feature.TRANSACTIONS) && random.nextInt(4) == 0 ? "p1" : "";
    }

    private String pickSql() {
        return sqls.get(random.nextInt(sqls.size()));
    }

    private String pick(String[] values) {
        return values[random.nextInt(values.length)];
    }
}

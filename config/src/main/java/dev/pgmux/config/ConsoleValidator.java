package dev.pgmux.config;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The rules of {@code admin_users} and {@code stats_users}, and the database names the console reserves. */
final class ConsoleValidator {

    private ConsoleValidator() {
    }

    static void validate(ConsoleConfig console, List<TenantConfig> tenants, Problems problems) {
        Map<String, String> seen = new HashMap<>();
        users("admin_users", console.adminUsers(), seen, problems);
        users("stats_users", console.statsUsers(), seen, problems);
        for (int i = 0; i < tenants.size(); i++) {
            TenantConfig tenant = tenants.get(i);
            String path = "tenants[" + i + "]";
            if (tenant.databases().isEmpty()) {
                reserved(path + ".upstream.database", tenant.upstream().database(), problems);
            }
            for (int j = 0; j < tenant.databases().size(); j++) {
                reserved(path + ".databases[" + j + "]", tenant.databases().get(j), problems);
            }
        }
    }

    private static void users(String key, List<UserConfig> users, Map<String, String> seen, Problems problems) {
        for (int i = 0; i < users.size(); i++) {
            UserConfig user = users.get(i);
            String path = key + "[" + i + "]";
            if (user.name().isEmpty()) {
                problems.add(path + ".name", "must not be empty");
            } else if (user.name().indexOf('.') >= 0) {
                problems.add(path + ".name", "must not contain a dot (console users log in with their plain name, "
                        + "never as user.tenant), got \"" + user.name() + "\"");
            } else {
                String earlier = seen.putIfAbsent(user.name(), path);
                if (earlier != null) {
                    problems.add(path + ".name", "\"" + user.name() + "\" is already listed at " + earlier);
                }
            }
            // Says only what is wrong with it: a password is never echoed.
            if (user.password().isEmpty()) {
                problems.add(path + ".password", "must not be empty");
            }
            switch (user.passwordKind()) {
                case SCRAM_SHA_256 -> Passwords.verifierProblem(user.password())
                        .ifPresent(problem -> problems.add(path + ".password", problem));
                case MD5 -> problems.add(path + ".password", "console users log in with SCRAM-SHA-256, which an MD5 "
                        + "hash cannot check: give the password or its SCRAM-SHA-256 verifier");
                case PLAINTEXT -> { }
            }
        }
    }

    private static void reserved(String path, String database, Problems problems) {
        if (ConsoleConfig.isConsoleDatabase(database)) {
            problems.add(path, "\"" + database + "\" is reserved for the admin console (" + String.join(", ",
                    ConsoleConfig.DATABASES) + ")");
        }
    }
}

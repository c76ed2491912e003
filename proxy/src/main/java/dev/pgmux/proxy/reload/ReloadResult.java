package dev.pgmux.proxy.reload;

import java.util.List;

/** What a reload did: applied (with what changed), or refused (with every problem, nothing changed). */
public sealed interface ReloadResult {

    /** One text for a log line, the admin HTTP answer and the console: a summary, then one line per item. */
    String text();

    /**
     * The new configuration is in effect.
     *
     * @param changes     what changed, one setting per line (empty: the file says what runs already)
     * @param needRestart settings that changed in the file but were kept, because only a restart changes them
     */
    record Applied(List<String> changes, List<String> needRestart) implements ReloadResult {
        public Applied {
            changes = List.copyOf(changes);
            needRestart = List.copyOf(needRestart);
        }

        @Override
        public String text() {
            String applied = changes.isEmpty() ? "configuration reloaded: no changes"
                    : lines("configuration reloaded (" + count(changes.size(), "change") + ")", changes);
            return needRestart.isEmpty() ? applied : applied + "\n" + lines("kept until a restart", needRestart);
        }
    }

    /**
     * The running configuration stays as it was.
     *
     * @param summary  what was refused, e.g. {@code invalid configuration in pgmux.yaml}
     * @param problems each as {@code path: problem}, as at start
     */
    record Refused(String summary, List<String> problems) implements ReloadResult {
        public Refused {
            problems = List.copyOf(problems);
        }

        @Override
        public String text() {
            return lines("reload refused, the running configuration stays: " + summary + " ("
                    + count(problems.size(), "problem") + ")", problems);
        }
    }

    private static String count(int n, String what) {
        return n + " " + what + (n == 1 ? "" : "s");
    }

    private static String lines(String head, List<String> items) {
        StringBuilder out = new StringBuilder(head).append(':');
        items.forEach(item -> out.append("\n  ").append(item));
        return out.toString();
    }
}

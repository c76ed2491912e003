package dev.pgmux.loadtest.report;

/**
 * The frame shared by the run and sweep reports: one self-contained HTML document with its CSS and its
 * one small script inline, and no reference to anything on the network.
 */
final class Page {
    static final String P50 = "#4e79a7";
    static final String P95 = "#f28e2b";
    static final String P99 = "#e15759";
    static final String MAX = "#8c8c8c";
    static final String RPS = "#59a14f";
    static final String ERR = "#e15759";
    static final String USERS = "#76b7b2";
    static final String BAR = "#4e79a7";
    static final String[] TARGET_COLORS = {"#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#edc948", "#9c755f", "#76b7b2"};
    static final String REFERENCE = "#555555";

    /** pgmux's modes keep their colours from sweep to sweep; other targets take the rest in order. */
    static String targetColor(String target, java.util.List<String> all) {
        return switch (target) {
            case "pgmux-session" -> TARGET_COLORS[0];
            case "pgmux-transaction" -> TARGET_COLORS[1];
            default -> {
                java.util.List<String> others = all.stream().filter(t -> !t.startsWith("pgmux-")).toList();
                yield TARGET_COLORS[2 + Math.max(0, others.indexOf(target)) % (TARGET_COLORS.length - 2)];
            }
        };
    }

    private Page() {}

    static String open(String title) {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<title>" + Html.esc(title) + "</title>\n<style>\n" + CSS + "</style>\n</head>\n<body>\n";
    }

    static String close(String footer) {
        return "<footer>" + footer + "</footer>\n<script>\n" + SCRIPT + "</script>\n</body>\n</html>\n";
    }

    private static final String CSS = """
            :root { --ink: #1f2933; --muted: #5f6b7a; --line: #e3e7ec; --bg: #f5f7fa; --card: #ffffff;
                    --ok: #2f855a; --bad: #c53030; --accent: #2b6cb0; }
            * { box-sizing: border-box; }
            body { margin: 0; background: var(--bg); color: var(--ink);
                   font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
            header { background: #1f2933; color: #fff; padding: 18px 32px 16px; display: flex; align-items: center; gap: 24px; }
            header .titles { flex: 1; min-width: 0; }
            header .brand { font-size: 12px; letter-spacing: .08em; text-transform: uppercase; color: #9fb3c8; }
            header h1 { margin: 2px 0 4px; font-size: 22px; font-weight: 600; }
            header .sub { color: #c5d1dd; font-size: 13px; overflow-wrap: anywhere; }
            header code { background: rgba(255, 255, 255, .12); color: #e4ebf2; }
            .verdict { font-weight: 700; font-size: 15px; padding: 8px 16px; border-radius: 6px; white-space: nowrap; }
            .verdict.pass { background: #c6f6d5; color: #22543d; }
            .verdict.fail { background: #fed7d7; color: #822727; }
            .verdict.none { background: #e2e8f0; color: #2d3748; }
            main { max-width: 1360px; margin: 0 auto; padding: 20px 32px 8px; }
            section { margin-bottom: 22px; }
            h2 { font-size: 16px; margin: 0 0 10px; font-weight: 600; }
            .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
            .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
            .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
            .card .value { font-size: 24px; font-weight: 600; margin-top: 2px; font-variant-numeric: tabular-nums; }
            .card .value small { font-size: 13px; font-weight: 400; color: var(--muted); }
            .card.bad .value { color: var(--bad); }
            .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
            figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px 6px; }
            figcaption { font-weight: 600; margin-bottom: 4px; }
            figcaption .hint { font-weight: 400; color: var(--muted); font-size: 12px; margin-left: 6px; }
            svg.chart { width: 100%; height: auto; display: block; font-family: inherit; }
            svg .grid { stroke: #edf0f3; stroke-width: 1; }
            svg .axis { stroke: #9aa5b1; stroke-width: 1; }
            svg .tick { font-size: 11px; fill: #52606d; font-variant-numeric: tabular-nums; }
            svg .axis-label { font-size: 12px; fill: #52606d; }
            svg .legend { font-size: 12px; fill: #323f4b; }
            svg .band { fill: #7b8794; fill-opacity: .12; }
            svg .band-label { font-size: 11px; fill: #616e7c; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
            svg .ref-label { font-size: 11px; font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
            svg .hover { fill: #1f2933; fill-opacity: 0; }
            svg .hover:hover { fill-opacity: .06; }
            svg .bar:hover { fill-opacity: .75; }
            .panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
            table { border-collapse: collapse; width: 100%; background: var(--card); font-variant-numeric: tabular-nums; }
            .table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; background: var(--card); }
            th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
            th { background: #f0f3f7; font-weight: 600; font-size: 12px; color: #3e4c59; position: sticky; top: 0; }
            th.sortable { cursor: pointer; }
            th.sortable:hover { background: #e4e9ef; }
            td.text, th.text { text-align: left; white-space: normal; }
            tr.total td { font-weight: 600; background: #fafbfc; }
            tr:last-child td { border-bottom: none; }
            td.bad { color: var(--bad); font-weight: 600; }
            td.ok { color: var(--ok); font-weight: 600; }
            .muted { color: var(--muted); }
            .kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; }
            .kv dt { color: var(--muted); }
            .kv dd { margin: 0; overflow-wrap: anywhere; }
            .note { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
            .warn { background: #fffbea; border: 1px solid #f7d070; color: #8d2b0b; border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
            .recommend { background: var(--card); border: 1px solid var(--line); border-left: 5px solid var(--ok); border-radius: 8px; padding: 14px 18px; margin-bottom: 14px; }
            .recommend.none { border-left-color: var(--bad); }
            .recommend h3 { margin: 0 0 6px; font-size: 17px; }
            .recommend ol { margin: 6px 0 0; padding-left: 20px; }
            .recommend li { margin: 2px 0; }
            code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px;
                   background: #eef2f6; padding: 1px 4px; border-radius: 3px; }
            a { color: var(--accent); }
            footer { color: var(--muted); font-size: 12px; text-align: center; padding: 10px 32px 24px; }
            """;

    /** Click a column heading of a sortable table to sort by it; the total row stays on top. */
    private static final String SCRIPT = """
            document.querySelectorAll('table.sortable').forEach(function (table) {
              table.querySelectorAll('th').forEach(function (th, col) {
                th.classList.add('sortable');
                th.title = 'sort';
                th.addEventListener('click', function () {
                  var body = table.tBodies[0];
                  var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return !r.classList.contains('total'); });
                  var desc = th.dataset.order !== 'desc';
                  th.dataset.order = desc ? 'desc' : 'asc';
                  rows.sort(function (a, b) {
                    var x = a.cells[col].dataset.v !== undefined ? a.cells[col].dataset.v : a.cells[col].textContent;
                    var y = b.cells[col].dataset.v !== undefined ? b.cells[col].dataset.v : b.cells[col].textContent;
                    var nx = parseFloat(x), ny = parseFloat(y);
                    var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
                    return desc ? -c : c;
                  });
                  rows.forEach(function (r) { body.appendChild(r); });
                });
              });
            });
            """;
}

"""Parameterised queries through psycopg 3 with its defaults, as its users run them: server-side binding on
the unnamed statement (Parse, Bind, Describe, Execute, Sync) until a text has run prepare_threshold (5) times,
a named statement after that; transactions begun implicitly (autocommit off) and committed every few queries,
and some connections in autocommit. Several threads at once, a few dozen distinct texts, every value checked,
a division by zero now and then (rolled back, and the connection goes on). Prints one JSON line with the
counts; exits 1 at the first wrong answer. Connection settings come from the PG* environment variables."""
import json
import os
import sys
import threading

try:
    import psycopg
except ImportError as e:
    sys.stderr.write("psycopg 3 is needed for this test and is not installed "
                     "(Debian: apt-get install python3-psycopg; .ci/run installs it): %s\n" % e)
    sys.exit(2)

THREADS = int(os.environ.get("UNNAMED_CLIENTS", "4"))
ROUNDS = int(os.environ.get("UNNAMED_ROUNDS", "150"))
TEXTS = 30

lock = threading.Lock()
counts = {"queries": 0, "errors": 0}
failures = []


def checked(conn, k, n):
    if k % 3 == 0:
        rows = conn.execute("SELECT %%s::int + %d AS v, %%s::text AS t" % k, (n, "n%d" % n)).fetchall()
        if rows != [(n + k, "n%d" % n)]:
            raise AssertionError("text %d, n %d: got %r" % (k, n, rows))
    elif k % 3 == 1:
        rows = conn.execute("SELECT g * %d AS v FROM generate_series(1, %%s::int) g" % k, (n % 5 + 1,)).fetchall()
        if rows != [(g * k,) for g in range(1, n % 5 + 2)]:
            raise AssertionError("series %d, n %d: got %r" % (k, n, rows))
    else:
        rows = conn.execute("SELECT %%s::text || '-%d' AS s" % k, ("v%d" % n,)).fetchall()
        if rows != [("v%d-%d" % (n, k),)]:
            raise AssertionError("concat %d, n %d: got %r" % (k, n, rows))


def run(ident):
    queries = errors = 0
    with psycopg.connect(autocommit=(ident % 2 == 1), connect_timeout=10) as conn:
        for i in range(ROUNDS):
            k = (i * 7 + ident * 11) % TEXTS
            n = i * 13 + ident
            if i % 17 == 5:
                try:
                    conn.execute("SELECT 10 / %%s::int AS v -- %d" % k, (0,))
                    raise AssertionError("division by zero succeeded")
                except psycopg.errors.DivisionByZero:
                    errors += 1
                    if not conn.autocommit:
                        conn.rollback()
            else:
                checked(conn, k, n)
                queries += 1
                if not conn.autocommit and i % 4 == 3:
                    conn.commit()
        if not conn.autocommit:
            conn.commit()
    with lock:
        counts["queries"] += queries
        counts["errors"] += errors


def thread(ident):
    try:
        run(ident)
    except BaseException as e:  # reported by the main thread
        with lock:
            failures.append("client %d: %s: %s" % (ident, type(e).__name__, e))


threads = [threading.Thread(target=thread, args=(i,)) for i in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failures:
    sys.stderr.write("psycopg failed: " + "; ".join(failures) + "\n")
    sys.exit(1)
print(json.dumps(counts))

# pgmux against PgBouncer (or against REF) run by run, from the runs.tsv of one or more pgbench-matrix.sh runs:
#   awk -F'\t' -v c=CASE -v t=TARGET [-v ref=REF] -f bench/paired-ratios.awk RUNS.tsv...
# prints "runs tps low high ahead cpu cpudiff": the geometric mean of TARGET's TPS over REF's (default
# pgbouncer) in the same round with a 95% interval (Student's t on the mean log ratio), the rounds in which
# TARGET had more TPS, the geometric mean of their CPU-per-transaction ratios and the mean of their
# differences in µs ("-" without CPU figures); "0" without pairs.
# Both ran in the same round, minutes apart at most, so the machine's drift (which moves every target's
# TPS by tens of percent between rounds) largely cancels in their ratio, where it does not in medians.
# A round is a run number within one file, so several matrices pool their rounds.
$1 == c && $4 == "ok" && $2 == t           {tps[FILENAME, $3] = $5; cpu[FILENAME, $3] = $10}
$1 == c && $4 == "ok" && $2 == (ref == "" ? "pgbouncer" : ref) {btps[FILENAME, $3] = $5; bcpu[FILENAME, $3] = $10}
END {
  for (r in tps) if ((r in btps) && tps[r] > 0 && btps[r] > 0) {
    x = log(tps[r] / btps[r]); n++; s += x; q += x * x; if (x > 0) up++
    if (cpu[r] != "" && bcpu[r] > 0) {m++; cs += log(cpu[r] / bcpu[r]); cd += cpu[r] - bcpu[r]}
  }
  if (n == 0) {print 0; exit}
  mean = s / n; var = n > 1 ? (q - n * mean * mean) / (n - 1) : 0; se = sqrt(var > 0 ? var / n : 0)
  # two-sided 95% quantiles of Student's t for n - 1 degrees of freedom (1.96 beyond 30)
  split("12.71 4.30 3.18 2.78 2.57 2.45 2.36 2.31 2.26 2.23 2.20 2.18 2.16 2.14 2.13 2.12 2.11 2.10 2.09 2.09 2.08 2.07 2.07 2.06 2.06 2.06 2.05 2.05 2.05 2.04", tq, " ")
  k = n - 1 <= 30 ? tq[n - 1] : 1.96
  printf "%d %.3f %.3f %.3f %d %s %s\n", n, exp(mean), exp(mean - k * se), exp(mean + k * se), up + 0,
    m ? sprintf("%.3f", exp(cs / m)) : "-", m ? sprintf("%+.1f", cd / m) : "-"
}

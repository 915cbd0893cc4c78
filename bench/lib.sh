# Shared by the benchmarks (sourced).
#
# bench_row MEASURE KORCLUSTER BASELINE GOAL [UNIT]
#   One result: korcluster's figure next to its baseline measured in the
#   same run, their ratio (korcluster / baseline: lower is better) and the
#   goal (the highest ratio that meets it).  Printed, and appended to
#   $BENCH_TABLE when set (make bench prints them all as one table).
bench_row() {
	python3 - "$@" <<'PY'
import os, sys
measure, kc, base, goal = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
unit = sys.argv[5] if len(sys.argv) > 5 else "s"
ratio = kc / base if base > 0 else float("inf")
met = "met" if ratio <= goal else "NOT met"
line = "\t".join([measure, "%.3f %s" % (kc, unit), "%.3f %s" % (base, unit), "%.2fx" % ratio, "<= %gx" % goal, met])
print("%-48s korcluster %10s  baseline %10s  ratio %7s  goal %7s  %s" % tuple(line.split("\t")))
t = os.environ.get("BENCH_TABLE")
if t:
    with open(t, "a") as f:
        f.write(line + "\n")
PY
}

# bench_note MEASURE TEXT: a figure without a goal (context for the table).
bench_note() {
	echo "$1: $2"
	[ -z "${BENCH_TABLE:-}" ] || printf '%s\t%s\t-\t-\t-\t-\n' "$1" "$2" >>"$BENCH_TABLE"
}

# bench_median N CMD...: the median wall time of N runs of CMD (seconds;
# its output dropped); a failing run fails the benchmark, showing its output.
bench_median() {
	python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
n, cmd, times = int(sys.argv[1]), sys.argv[2:], []
for _ in range(n):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    times.append(time.perf_counter() - t0)
    if r.returncode != 0:
        sys.stderr.write(r.stdout.decode(errors="replace"))
        sys.exit("bench: %s failed (exit %d)" % (" ".join(cmd), r.returncode))
print("%.4f" % statistics.median(times))
PY
}

# bench_medians N CMD1 -- CMD2 -- ...: the median wall time of each CMD
# over N rounds, the commands taking turns within each round, so that all
# see the machine alike (a burst of the engine's healthchecks, say); one
# line per command.  A failing run fails the benchmark, showing its output.
bench_medians() {
	python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
n, cmds, cur = int(sys.argv[1]), [], []
for a in sys.argv[2:]:
    if a == "--":
        cmds.append(cur)
        cur = []
    else:
        cur.append(a)
cmds.append(cur)
times = [[] for _ in cmds]
for _ in range(n):
    for i, cmd in enumerate(cmds):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        times[i].append(time.perf_counter() - t0)
        if r.returncode != 0:
            sys.stderr.write(r.stdout.decode(errors="replace"))
            sys.exit("bench: %s failed (exit %d)" % (" ".join(cmd), r.returncode))
for t in times:
    print("%.4f" % statistics.median(t))
PY
}

#!/usr/bin/env bash
# scaling.sh - `wsrun --scaling` (runtime/cmd/scaling*.c): the table and the
# CSV have a row per -j and per round with their columns named, speedup 1.00
# at the base -j, and table figures that are the CSV's medians, minima and
# maxima; a plugin with static state gives the same output in every round
# (each run is a fresh process); the determinism check flags output that
# depends on -j; bad LIST values and other bad study options are refused
# (exit 2, the value named); a failing run stops the study (round and -j
# named); Ctrl-C after round 1, raised by the test hook when that round
# ends, prints the round done (exit 130); the CSV, plot and kept output
# are written safely; the tutorial's plugin and a built-in work.
# Nothing here depends on the machine's speed: only structure, counts,
# outputs and the consistency of the figures are checked.  Run from the
# repository root; needs $WSRUN_BUILD with plugins and test-plugins built.
# Writes only into a fresh folder under /tmp, which it removes.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start scaling scaling
ROOT=$(pwd)
[ -f "$ROOT/docs/tutorial/primes.c" ] || { echo "scaling: run me from the repository root"; exit 2; }
[ -f "$FIXTURES/scalefix.so" ] || { echo "scaling: fixture plugins missing in $FIXTURES"; exit 2; }
cd "$SCRATCH" || exit 2
PY=/usr/bin/python3
FIX=$FIXTURES/scalefix.so
unset WSRUN_TEST_SCALING_INTERRUPT_AFTER_ROUND WSRUN_SCALING_CHILD

# table_csv_agree TABLE CSV ROUNDS JOBS...: rows, columns and figures.
table_csv_agree() {
    $PY - "$@" <<'PYEOF'
import csv, statistics, sys
table, path, rounds, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(j) for j in sys.argv[4:]]
rows = list(csv.DictReader(open(path)))
cols = "round,jobs,span_s,cpu_s,cpu_per_wall,steals,parked_ms,output_bytes,output_hash".split(",")
assert list(rows[0].keys()) == cols, rows[0].keys()
assert len(rows) == rounds * len(jobs), len(rows)
# interleaved: round 1 at every -j, then round 2, ...
assert [(int(r["round"]), int(r["jobs"])) for r in rows] == \
    [(r, j) for r in range(1, rounds + 1) for j in jobs], [(r["round"], r["jobs"]) for r in rows]
lines = open(table).read().splitlines()
head = [l for l in lines if l.split()[:2] == ["-j", "median_s"]]
assert len(head) == 1 and head[0].split() == \
    "-j median_s min_s max_s speedup efficiency cpu/wall steals parked_ms".split(), head
body = lines[lines.index(head[0]) + 1:][:len(jobs)]
assert [int(l.split()[0]) for l in body] == jobs, body
base = None
for line, j in zip(body, jobs):
    f = [float(x) for x in line.split()]
    mine = [r for r in rows if int(r["jobs"]) == j]
    span = [float(r["span_s"]) for r in mine]
    assert all(s > 0 for s in span), span
    med = statistics.median(span)
    base = base or med
    close = lambda a, b, tol: abs(a - b) <= tol
    assert close(f[1], med, 1e-6) and close(f[2], min(span), 1e-6) and close(f[3], max(span), 1e-6), (line, span)
    assert close(f[4], base / med, 0.0051), (line, base / med)
    assert close(f[5], base / med * jobs[0] / j, 0.0051), line
    assert close(f[6], statistics.median(float(r["cpu_per_wall"]) for r in mine), 0.0051), line
    assert close(f[7], statistics.median(int(r["steals"]) for r in mine), 0.51), line
    assert close(f[8], statistics.median(float(r["parked_ms"]) for r in mine), 0.051), line
    for r in mine:
        assert close(float(r["cpu_per_wall"]), float(r["cpu_s"]) / float(r["span_s"]), 1e-5), r
f = body[0].split()
assert f[4] == "1.00" and f[5] == "1.00", body[0]
PYEOF
}

# ------------------------------------------------------------ table and CSV
"$W" -p "$FIX" -n 2000 --scaling 1,2,3 --repeat 3 --scaling-csv s.csv >table.txt 2>err.txt
check "a study of 3 rounds at -j 1,2,3 exits 0" test $? -eq 0
check "... prints nothing on stderr" test ! -s err.txt
check "... the table and the CSV agree, rows for every -j and round" table_csv_agree table.txt s.csv 3 1 2 3
check "... names the machine" grep -qE "^machine: .+, [0-9]+ CPUs allowed, load average [0-9.]+ before, [0-9.]+ after$" table.txt
check "... says it ran 3 rounds interleaved" grep -q "^wsrun --scaling: plugin .*scalefix.so, -j 1,2,3, 3 rounds interleaved" table.txt
check "no temporary beside the CSV" test "$(ls -A | grep -c '\.tmp\.')" -eq 0
# the check must be able to fail: a CSV with a figure changed
awk -F, 'NR == 2 {$3 = $3 * 3} {print}' OFS=, s.csv >wrong.csv
if table_csv_agree table.txt wrong.csv 3 1 2 3 2>/dev/null; then bad "the agreement check accepted a changed figure"; else ok; fi

# a base other than -j1: the smallest given, written in any order
"$W" -p "$FIX" -n 100 --scaling=3,2 --repeat 2 --scaling-csv b.csv >base.txt 2>err.txt
check "--scaling=3,2 exits 0" test $? -eq 0
check "... speedup and efficiency 1.00 at -j 2, rows ascending" table_csv_agree base.txt b.csv 2 2 3
check "... says so" grep -q "^speedup and efficiency: against -j 2;" base.txt

# the default list: 1, 2, 4, ... below the CPUs allowed, and that number
cpus=$(nproc)
want=""
for ((j = 1; j < cpus; j *= 2)); do want="$want$j,"; done
want="$want$cpus"
"$W" -p "$FIX" -n 10 --scaling --repeat 1 >default.txt 2>err.txt
check "bare --scaling (before --repeat) exits 0" test $? -eq 0
check "... runs -j $want (the CPUs allowed: $cpus)" grep -q "^wsrun --scaling: plugin .*, -j $want, 1 round interleaved" default.txt
check "... one row per -j" test "$(grep -cE '^ +[0-9]+ +[0-9]+\.[0-9]{6} ' default.txt)" -eq "$(echo "$want" | tr ',' '\n' | wc -l)"
check "... and says how many CPUs" grep -q "^machine: .*, $cpus CPUs allowed," default.txt

# ------------------------------------------------------------ static state, output kept
"$W" -p "$FIX" -n 1000 --scaling 1-2 --repeat 3 --scaling-keep-output kept.txt >static.txt 2>err.txt
check "static state: exits 0" test $? -eq 0
check "... the output is the same in all 6 runs" grep -qx "output: the same in all 6 runs (36 bytes on stdout, captured)" static.txt
check "... the kept output is one fresh init's result" test "$(cat kept.txt)" = "init calls 1, sum of indices 499500"
check "... and the plugin's output is not on stdout" test "$(grep -c 'init calls' static.txt)" -eq 0

# ------------------------------------------------------------ determinism check
"$W" -p "$FIX" -n 10 -o print_jobs=on --scaling 1,2 --repeat 2 >diff.txt 2>err.txt
check "output depending on -j: still exits 0" test $? -eq 0
check "... flagged, naming the first two runs that differ" grep -q "^warning: the plugin's output differs between runs: round 1 at -j 1 gave 44 bytes (hash [0-9a-f]*), round 1 at -j 2 gave 44 bytes" diff.txt
"$W" -p "$FIX" -n 10 -o print_jobs=on --scaling 1,2 --repeat 2 --scaling-allow-diff >allow.txt 2>err.txt
check "--scaling-allow-diff: exits 0" test $? -eq 0
check "... no warning about the output" test "$(grep -c "warning: the plugin's output" allow.txt)" -eq 0
check "... but says the outputs differ" grep -qx "output: differs between runs (allowed by --scaling-allow-diff)" allow.txt

# ------------------------------------------------------------ refused
# refuse NAME FRAGMENT ARGS...: exit 2, one line with FRAGMENT, no file, no
# run.  wsrun runs with PATH=$WSRUN_PATH when that is set.
refuse() {
    local name=$1 fragment=$2
    shift 2
    mkdir -p refused && rm -rf refused/* && cd refused || exit 2
    PATH=${WSRUN_PATH:-$PATH} "$W" "$@" >out.txt 2>err.txt
    local rc=$?
    if [ $rc -ne 2 ]; then bad "$name: exit $rc, expected 2"
    elif ! grep -qF -- "$fragment" err.txt; then bad "$name: stderr lacks '$fragment':"; sed 's/^/  /' err.txt
    elif [ "$(wc -l <err.txt)" -ne 1 ]; then bad "$name: stderr is not one line:"; sed 's/^/  /' err.txt
    elif [ -s out.txt ]; then bad "$name: something ran (stdout not empty)"
    elif [ "$(ls -A | wc -l)" -ne 2 ]; then bad "$name: files left: $(ls -A)"
    else ok; fi
    cd .. || exit 2
}
P=(-p "$FIX" -n 10 --scaling-csv c.csv)
refuse "LIST 0" "wsrun: --scaling: 0 is out of range 1..4096 (in '0,1')" "${P[@]}" --scaling 0,1
refuse "LIST 4097" "wsrun: --scaling: 4097 is out of range 1..4096 (in '4097')" "${P[@]}" --scaling 4097
refuse "LIST word" "wsrun: --scaling: 'two' is not a number of jobs or a range A-B (in '1,two')" "${P[@]}" --scaling 1,two
refuse "LIST empty" "wsrun: --scaling: empty list" "${P[@]}" --scaling=
refuse "LIST empty item" "wsrun: --scaling: empty value in '1,,2'" "${P[@]}" --scaling 1,,2
refuse "LIST trailing comma" "wsrun: --scaling: empty value in '1,'" "${P[@]}" --scaling 1,
refuse "LIST range down" "wsrun: --scaling: range '4-2' goes down (write it 2-4)" "${P[@]}" --scaling 4-2
refuse "LIST open range" "wsrun: --scaling: '' is not a number of jobs or a range A-B (in '2-')" "${P[@]}" --scaling 2-
refuse "LIST repeated" "wsrun: --scaling: -j 2 is given twice in '1-3,2'" "${P[@]}" --scaling 1-3,2
refuse "LIST sign" "wsrun: --scaling: '+2' is not a number of jobs" "${P[@]}" --scaling +2
refuse "LIST decimal" "wsrun: --scaling: '1.5' is not a number of jobs" "${P[@]}" --scaling 1.5
refuse "repeat 0" "wsrun: --repeat: expected a whole number from 1 to 1000, got '0'" "${P[@]}" --scaling 1 --repeat 0
refuse "repeat 1001" "wsrun: --repeat: expected a whole number from 1 to 1000, got '1001'" "${P[@]}" --scaling 1 --repeat 1001
refuse "repeat word" "wsrun: --repeat: expected a whole number from 1 to 1000, got 'x'" "${P[@]}" --scaling 1 --repeat x
for o in --repeat --scaling-csv --scaling-plot --scaling-keep-output; do
    refuse "missing value $o" "wsrun: option '$o' needs a value (see wsrun --help)" -p "$FIX" -n 10 --scaling 1 "$o"
done
refuse "repeat without --scaling" "wsrun: --repeat needs --scaling" -p "$FIX" -n 10 --repeat 3
refuse "CSV without --scaling" "wsrun: --scaling-csv needs --scaling" -p "$FIX" -n 10 --scaling-csv c.csv
refuse "-j with --scaling" "wsrun: --jobs cannot be used with --scaling" "${P[@]}" --scaling 1 -j 2
refuse "--trace with --scaling" "wsrun: --trace cannot be used with --scaling" "${P[@]}" --scaling 1 --trace t.json
refuse "CSV into a missing folder" "wsrun: --scaling-csv: cannot create $SCRATCH/refused/no/c.csv" -p "$FIX" -n 10 --scaling 1 --scaling-csv "$SCRATCH/refused/no/c.csv"
refuse "CSV to stdout" "wsrun: --scaling-csv: '-' is not allowed here" -p "$FIX" -n 10 --scaling 1 --scaling-csv -
mkdir -p nobin
WSRUN_PATH=$SCRATCH/nobin refuse "plot without gnuplot" "wsrun: --scaling-plot: gnuplot is not installed (on Debian: apt-get install gnuplot-nox)" "${P[@]}" --scaling 1 --scaling-plot p.png
WSRUN_SCALING_CHILD=junk "$W" -p "$FIX" -n 1 >out.txt 2>err.txt
check "a malformed WSRUN_SCALING_CHILD exits 2" test $? -eq 2
check "... naming the variable" grep -qx "wsrun: WSRUN_SCALING_CHILD='junk' is malformed: wsrun --scaling sets it for its own runs only" err.txt

# a run that refuses its command line: the study exits 2 too
"$W" -p "$FIX" -n 10 -o no_such=1 --scaling 1,2 --scaling-csv c.csv >out.txt 2>err.txt
check "a run refusing its -o: exit 2" test $? -eq 2
check "... its own message passes through" grep -q "^wsrun: unknown option 'no_such' for plugin scalefix" err.txt
check "... then the study names round 1 and -j 1" grep -qx "wsrun: --scaling: round 1 of 5, -j 1: the run exited with status 2 (command line, plugin or its init refused: see above)" err.txt
check "... and writes no CSV" test ! -e c.csv -a "$(ls -A | grep -c '\.tmp\.')" -eq 0

# ------------------------------------------------------------ a failing round
"$W" -p "$FIX" -n 100 -o fail_jobs=2 --scaling 1-3 --repeat 3 --scaling-csv c.csv >out.txt 2>err.txt
check "a failing run stops the study: exit 1" test $? -eq 1
check "... naming round 1, -j 2 and the failure" grep -qx "wsrun: --scaling: round 1 of 3, -j 2: the run exited with status 1 (see above)" err.txt
check "... after the run's own message" grep -q "^wsrun: scalefix: index 0 failed (worker [0-9]*): fails at -j 2 on purpose" err.txt
check "... no later run started (one failure message)" test "$(grep -c 'index 0 failed' err.txt)" -eq 1
check "... no table (no round was done) and no CSV" test ! -s out.txt -a ! -e c.csv

"$W" -p "$FIX" -n 100 -o exit_jobs=1 --scaling 1,2 --repeat 2 >out.txt 2>err.txt
check "a run that exits 0 before finish: exit 1" test $? -eq 1
check "... the study says it reported no span" grep -qx "wsrun: --scaling: round 1 of 2, -j 1: the run exited 0 without reporting its span" err.txt

# ------------------------------------------------------------ Ctrl-C after round 1 (test hook)
WSRUN_TEST_SCALING_INTERRUPT_AFTER_ROUND=1 "$W" -p "$FIX" -n 100 --scaling 1,2 --repeat 4 \
    --scaling-csv c.csv --scaling-keep-output k.txt >int.txt 2>err.txt
check "SIGINT after round 1: exit 130" test $? -eq 130
check "... prints the round done" grep -q "^wsrun --scaling: plugin .*, -j 1,2, 1 round of 4 (stopped early) interleaved" int.txt
check "... one row per -j" test "$(grep -cE '^ +[12] +[0-9]+\.[0-9]{6} ' int.txt)" -eq 2
check "... says so on stderr" grep -qx "wsrun: --scaling: interrupted by SIGINT during round 2 of 4: the table holds the rounds done; no file was written" err.txt
check "... and writes no CSV nor kept output, no temporary" test ! -e c.csv -a ! -e k.txt -a "$(ls -A | grep -c '\.tmp\.')" -eq 0

# ------------------------------------------------------------ the plot
if command -v gnuplot >/dev/null; then
    "$W" -p "$FIX" -n 10 --scaling 1,2 --repeat 2 --scaling-plot plot.png >out.txt 2>err.txt
    check "--scaling-plot: exit 0" test $? -eq 0
    check "... writes a PNG" test "$(head -c 8 plot.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
    check "... and no temporary" test "$(ls -A | grep -c '\.tmp\.')" -eq 0
else
    echo "scaling: gnuplot not installed (gnuplot-nox): the plot case is skipped"
fi

# ------------------------------------------------------------ the tutorial's plugin, a built-in
if cc -std=c11 -O2 -Wall -Werror -I"$ROOT/include" -fPIC -shared "$ROOT/docs/tutorial/primes.c" -o primes.so 2>cc.err; then
    "$W" -p ./primes.so -o below=20000 --scaling 1,2 --repeat 3 --scaling-csv p.csv --scaling-keep-output p.txt >primes.txt 2>err.txt
    check "the tutorial's primes plugin: exit 0" test $? -eq 0
    check "... a CSV of 6 runs" test "$(wc -l <p.csv)" -eq 7
    check "... the same output in all 6 runs, the right count" grep -qx "output: the same in all 6 runs (25 bytes on stdout, captured)" primes.txt
    check "... the kept output" test "$(cat p.txt)" = "primes below 20000: 2262"
else
    bad "the tutorial plugin does not build: $(head -3 cc.err)"
fi
"$W" -p fib -o n=20 --scaling 2 --repeat 1 >fib.txt 2>err.txt
check "built-in fib at one -j, one round: exit 0, one row" test $? -eq 0 -a "$(grep -cE '^ +2 +[0-9.]+ +[0-9.]+ +[0-9.]+ +1\.00 +1\.00 ' fib.txt)" -eq 1

cli_finish

#!/usr/bin/env bash
# bench-report.sh - bench/report.py judges the -j2 speedup targets over the
# rounds whose CPU probes agree (bench/run.sh, add_cpu_probes), and over all
# rounds when fewer than 3 agree, stating both, and the noise pair targets
# from meta.txt's noise_pairs_* lines: fed a made-up raw.csv whose
# answer is known, it must print exactly that.  Quick mode, so the doc is
# left alone; writes only into a fresh folder under /tmp, which it removes.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start bench-report bench-report relative
[ -f bench/report.py ] || { echo "bench-report: run me from the repository root"; exit 2; }

RAW=$SCRATCH/raw.csv
# row WORKLOAD SIZE IMPL JOBS REP SECONDS
row() { printf '%s,%s,%s,%s,%s,%s,%s,1,\n' "$@" "$6" >>"$RAW"; }
# probes GROUP REP CPU0_S CPU1_S: start and end probes of one round
probes() {
    local when
    for when in start end; do
        row "$1" "probe-$1" "cpu0-$when" 1 "$2" "$3"
        row "$1" "probe-$1" "cpu1-$when" 1 "$2" "$4"
    done
}
: >"$RAW"
# fib: rounds 1-3 with equal CPUs (-j2 8 ms: speedup 2.00), rounds 4-6 with
# cpu0 at 0.6x speed (-j2 16 ms); the median over all six is 12 ms (1.33).
for rep in 1 2 3 4 5 6; do
    if [ "$rep" -le 3 ]; then probes fib "$rep" 0.0120 0.0121; j2=0.008
    else probes fib "$rep" 0.0200 0.0120; j2=0.016; fi
    row fib n=35 serial 1 "$rep" 0.011
    row fib n=35 wsrun 1 "$rep" 0.016
    row fib n=35 wsrun 2 "$rep" "$j2"
done
# nqueens: only 2 rounds agree (too few): judged over all rounds, 1.60.
for rep in 1 2 3 4 5 6; do
    if [ "$rep" -le 2 ]; then probes nqueens "$rep" 0.0120 0.0120
    else probes nqueens "$rep" 0.0120 0.0200; fi
    row nqueens n=13 serial 1 "$rep" 0.030
    row nqueens n=13 wsrun 1 "$rep" 0.032
    row nqueens n=13 wsrun 2 "$rep" 0.020
done
# uts T3: no probes, -j1 18.453 ms, -j2 10 ms: speedup 1.8453, shown 1.85,
# so judged as 1.85 (met): the verdict never contradicts the digits shown.
for rep in 1 2 3; do
    row uts T3 wsrun 1 "$rep" 0.018453
    row uts T3 wsrun 2 "$rep" 0.010
done
printf 'mode=quick\nreps=3\nscaling_reps=6\ncpus=2\n' >"$SCRATCH/meta.txt"
# noise pairs (bench/noise_pairs.sh's lines): -j1 against noise_omp met with
# its interval below 1.00; -j2 against it met by the median though the
# interval reaches above 1.00; -j1 against the plain loop over too few
# rounds; -j2 against the plain loop not measured.
cat >>"$SCRATCH/meta.txt" <<'META'
noise_pairs_count=20000
noise_pairs_j1_omp-for_wall=0.9512 0.9300 0.9800 0.9648 15
noise_pairs_j1_omp-for_cpu=0.9000 0.8800 0.9400 0.9648 15
noise_pairs_j2_omp-for_wall=0.9990 0.9700 1.0200 0.9648 15
noise_pairs_j1_omp-plain_wall=0.6000 0.5500 0.6500 0.9375 5
META

/usr/bin/python3 bench/report.py --raw "$RAW" --meta "$SCRATCH/meta.txt" --mode quick \
    --results "$SCRATCH/results" --doc "$SCRATCH/none.md" >"$SCRATCH/out" 2>&1
check "report.py runs on the made-up runs" test $? -eq 0
out=$(cat "$SCRATCH/out")
check "fib judged over its 3 rounds with equal CPUs, all rounds also given" grep -qF \
    "| fib(35): speedup at -j2 >= 1.85 (vs own -j1) | 2.00 in the 3 of 6 rounds with equal CPUs (all rounds: 1.33) | met |" <<<"$out"
check "nqueens judged over all rounds when only 2 agree" grep -qF \
    "| nqueens(13): speedup at -j2 >= 1.85 | 1.60 (all 6 rounds; 2 with equal CPUs, too few) | MISSED |" <<<"$out"
check "a speedup shown as 1.85 is judged as 1.85 (met), not as 1.8453" grep -qF \
    "| uts T3: speedup at -j2 >= 1.85 | 1.85 | met |" <<<"$out"
check "the probes' medians and counts are stated" grep -qF \
    "fib: cpu0 16.0, cpu1 12.1, 3 of 6 rounds equal; nqueens: cpu0 12.0, cpu1 20.0, 2 of 6 rounds equal" <<<"$out"
check "probe rows stay out of the results table" test -z "$(grep -l probe "$SCRATCH/results/latest-quick.csv")"
check "the header says how many rounds the probed workloads ran" grep -qF \
    "median of 3 (6 for fib, nqueens and uts, whose rounds carry CPU probes) runs" <<<"$out"
check "noise -j1 vs noise_omp: median, interval, coverage, rounds and CPU ratio, met" grep -qF \
    "| noise x20000 -j1 (tmpfs, whole process): no slower than the tuned OpenMP writer (noise_omp): median of paired wall ratios <= 1.00 over >= 15 rounds | 0.951, 90% CI [0.930, 0.980] (exact coverage 96.5%), 15 rounds; CPU ratio 0.900 [0.880, 0.940] | met |" <<<"$out"
check "noise -j2 vs noise_omp: met by the median, the interval above 1.00 said" grep -qF \
    "0.999, 90% CI [0.970, 1.020] (exact coverage 96.5%), 15 rounds | met (interval reaches above 1.00) |" <<<"$out"
check "noise -j1 vs the plain loop: 5 rounds are too few" grep -qF \
    "(noise_plain_omp): median of paired wall ratios <= 1.00 over >= 15 rounds | 0.600, 90% CI [0.550, 0.650] (exact coverage 93.8%), 5 rounds | MISSED |" <<<"$out"
check "noise -j2 vs the plain loop: not measured" grep -qF \
    "noise x20000 -j2 (tmpfs, whole process): no slower than the plain OpenMP loop, libpng through stdio (noise_plain_omp): median of paired wall ratios <= 1.00 over >= 15 rounds | not measured | n/a |" <<<"$out"
[ "$failed" = 0 ] || sed 's/^/  /' "$SCRATCH/out"

cli_finish

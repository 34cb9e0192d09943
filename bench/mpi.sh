#!/usr/bin/env bash
# bench/mpi.sh - what the MPI path (wsrun-mpi under mpirun) costs over the
# single-process path (wsrun), on the same workloads: noise (20000 images)
# and spin (busy work, uniform and heavy-tailed).  R ranks of 1 worker each
# (R = 1, 2, 4) are compared with one process of -j R.
#
# Two times per run, each the best of REPS interleaved runs (this machine
# is shared: other work only ever adds time, so the minimum is the least
# disturbed run):
#   run  the run itself: the pool's wall time (wsrun --stats "wall") against
#        rank 0's "N of N indices in T s" (first block to last rank done);
#   e2e  the whole command, so mpirun's start-up and MPI_Init included.
# BENCH_QUICK=1: fewer runs and smaller counts.  BUILD: the build folder.
# BENCH_DIR: where noise writes (default /dev/shm, else /tmp).
# Writes bench/results/mpi.csv (mpi-quick.csv) and prints a table.
#
# Must never write outside bench/results and one temporary folder (removed
# at exit), and never report a run that failed or wrote the wrong number of
# files: such a run stops the script with status 1.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
QUICK=${BENCH_QUICK:-0}
WSRUN=$ROOT/$BUILD/wsrun
WSRUN_MPI=$ROOT/$BUILD/wsrun-mpi
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
unset WSRUN_PLUGIN_PATH

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/mpi: $*"; exit 1; }

[ -x "$WSRUN" ] || die "$WSRUN not found: run 'make BUILD=$BUILD all' first"
[ -x "$WSRUN_MPI" ] || die "$WSRUN_MPI not found: run 'make BUILD=$BUILD mpi' first"
command -v mpirun >/dev/null || die "mpirun not found: run 'make mpi' (installs openmpi-bin)"

if [ "$QUICK" = 1 ]; then
    MODE=quick REPS=2 NOISE_COUNT=5000 SPIN_COUNT=5000
else
    MODE=full REPS=5 NOISE_COUNT=20000 SPIN_COUNT=20000
fi
SPIN_US=100
RANKS="1 2 4"

# noise writes to a tmpfs when there is one: on ext4, creating 20000 files
# right after deleting the last run's 20000 costs more than the images
# themselves, and how much depends on the file system's history.
if [ -z "${BENCH_DIR:-}" ]; then
    BENCH_DIR=/tmp
    [ -d /dev/shm ] && [ -w /dev/shm ] && BENCH_DIR=/dev/shm
fi
TMP=$(mktemp -d "$BENCH_DIR/wsrun-mpi-bench.XXXXXX") || die "cannot make a temporary folder"
trap 'rm -rf "$TMP"' EXIT
mkdir -p bench/results || die "cannot create bench/results"
OUT=bench/results/mpi$([ "$MODE" = quick ] && echo -quick).csv

now() { date +%s.%N; }

# One spin calibration for every process: ranks calibrating at the same
# time on shared cores would each measure a different speed.
calibrate_spin() {
    local err t
    err=$("$WSRUN" --plugin spin --count 100 -j1 --stats -o shape=fixed -o mean-us=2000 \
        -o iters-per-us=1000 2>&1 >/dev/null) || die "spin calibration failed: $err"
    t=$(printf '%s\n' "$err" | sed -n 's/^  wall \([0-9.]*\) s.*/\1/p')
    awk -v t="$t" 'BEGIN { printf "%.1f", 100 * 2000 * 1000 / (t * 1e6) }'
}

# run_once KIND R WORKLOAD -> prints "run_s e2e_s"
run_once() {
    local kind=$1 r=$2 workload=$3 args err t0 t1 run_s rc
    rm -rf "$TMP/out" && mkdir "$TMP/out"
    case $workload in
    noise) args=(--plugin noise --count "$NOISE_COUNT" -o prefix="$TMP/out/image_") ;;
    spin-*) args=(--plugin spin --count "$SPIN_COUNT" -o mean-us=$SPIN_US
        -o shape="${workload#spin-}" -o iters-per-us="$ITERS") ;;
    esac
    t0=$(now)
    if [ "$kind" = single ]; then
        err=$("$WSRUN" "${args[@]}" -j "$r" --stats 2>&1 >/dev/null)
        rc=$?
        run_s=$(printf '%s\n' "$err" | sed -n 's/^  wall \([0-9.]*\) s.*/\1/p')
    else
        err=$("${MPIRUN[@]}" -n "$r" "$WSRUN_MPI" "${args[@]}" -j 1 2>&1 >/dev/null)
        rc=$?
        run_s=$(printf '%s\n' "$err" | sed -n 's/.* indices in \([0-9.]*\) s, .*/\1/p')
    fi
    t1=$(now)
    [ "$rc" = 0 ] && [ -n "$run_s" ] || die "$kind $r $workload failed (exit $rc): $err"
    if [ "$workload" = noise ]; then
        local files
        files=$(find "$TMP/out" -name 'image_*.png' | wc -l)
        [ "$files" = "$NOISE_COUNT" ] || die "$kind $r noise wrote $files files, not $NOISE_COUNT"
    fi
    awk -v a="$run_s" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%s %.3f\n", a, t1 - t0 }'
}

best() { sort -g | head -n 1; }

ITERS=$(calibrate_spin)
say "bench/mpi: $MODE, $REPS runs each, spin at $ITERS steps/us, $(nproc) CPUs," \
    "noise into $BENCH_DIR, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "workload,ranks_or_jobs,single_run_s,mpi_run_s,run_overhead_pct,single_e2e_s,mpi_e2e_s,e2e_overhead_pct" >"$OUT"
printf '%-12s %5s %10s %10s %9s %10s %10s %9s\n' workload R single_run mpi_run "run +%" \
    single_e2e mpi_e2e "e2e +%"
for workload in noise spin-uniform spin-heavy; do
    for r in $RANKS; do
        : >"$TMP/s_run"; : >"$TMP/s_e2e"; : >"$TMP/m_run"; : >"$TMP/m_e2e"
        for _ in $(seq "$REPS"); do
            read -r a b < <(run_once single "$r" "$workload") || exit 1
            echo "$a" >>"$TMP/s_run"; echo "$b" >>"$TMP/s_e2e"
            read -r a b < <(run_once mpi "$r" "$workload") || exit 1
            echo "$a" >>"$TMP/m_run"; echo "$b" >>"$TMP/m_e2e"
        done
        sr=$(best <"$TMP/s_run"); se=$(best <"$TMP/s_e2e")
        mr=$(best <"$TMP/m_run"); me=$(best <"$TMP/m_e2e")
        line=$(awk -v w="$workload" -v r="$r" -v sr="$sr" -v mr="$mr" -v se="$se" -v me="$me" \
            'BEGIN { printf "%s,%d,%.3f,%.3f,%.1f,%.3f,%.3f,%.1f", w, r, sr, mr,
                     100 * (mr / sr - 1), se, me, 100 * (me / se - 1) }')
        echo "$line" >>"$OUT"
        echo "$line" | awk -F, '{ printf "%-12s %5s %10s %10s %9s %10s %10s %9s\n",
                                  $1, $2, $3, $4, $5, $6, $7, $8 }'
    done
done
say "bench/mpi: load average now $(cut -d' ' -f1-3 /proc/loadavg); wrote $OUT"

#!/usr/bin/env bash
# bench/noise_pairs.sh - paired A/B timing of `wsrun --plugin noise` against
# the OpenMP C writer (bench/peers/noise_omp.c), whole process, in one
# folder: each pair runs both programs back to back (the order alternating),
# each into a fresh empty folder, and prints the median of wsrun/peer ratios
# with their spread.  Measuring only; never writes outside DIR.
#
#   bench/noise_pairs.sh DIR [PAIRS [COUNT [JOBS]]]   (default 9 2000 2)
#   BUILD=dir (default build), WSRUN=path (default $BUILD/wsrun)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
WSRUN=${WSRUN:-$BUILD/wsrun}
PEER=$BUILD/bench/peers/noise_omp
DIR=${1:?usage: bench/noise_pairs.sh DIR [PAIRS [COUNT [JOBS]]]}
PAIRS=${2:-9} COUNT=${3:-2000} JOBS=${4:-2}
[ -x "$PEER" ] || { echo "noise_pairs: $PEER missing (bench/run.sh builds it)" >&2; exit 2; }
mkdir -p "$DIR" || exit 2
run_ws() { "$WSRUN" --plugin noise --count "$COUNT" -j "$JOBS" -q -o "prefix=$DIR/w/image_"; }
run_peer() { OMP_NUM_THREADS=$JOBS "$PEER" "$DIR/w" "$COUNT"; }
time_one() { # prints "wall_us cpu_us" (user + system) of one run of $1 into an empty $DIR/w
    rm -rf "$DIR/w" && mkdir "$DIR/w" || exit 2
    local TIMEFORMAT='%3R %3U %3S' out
    out=$({ time "$1" >/dev/null 2>&1; } 2>&1) || { echo "noise_pairs: $1 failed" >&2; exit 1; }
    set -- ${out//./}
    echo "$((10#$1 * 1000)) $(((10#$2 + 10#$3) * 1000))"
}
for ((p = 0; p < PAIRS; p++)); do
    if ((p % 2)); then w=$(time_one run_ws); o=$(time_one run_peer)
    else o=$(time_one run_peer); w=$(time_one run_ws); fi
    echo "$w $o"
done | /usr/bin/python3 -c '
import statistics as st, sys
dir, n, j = sys.argv[1:4]
rows = [tuple(map(int, l.split())) for l in sys.stdin]  # ws_wall ws_cpu peer_wall peer_cpu
def show(what, a, b):
    r = sorted(x[a] / x[b] for x in rows)
    return "%s wsrun %.1f ms, noise_omp %.1f ms, wsrun/peer median %.3f (range %.3f..%.3f)" % (
        what, st.median(x[a] for x in rows) / 1e3, st.median(x[b] for x in rows) / 1e3,
        st.median(r), r[0], r[-1])
print("%s: noise x%s -j%s, %d pairs, medians:" % (dir, n, j, len(rows)))
print("  " + show("wall:", 0, 2))
print("  " + show("cpu: ", 1, 3))' "$DIR" "$COUNT" "$JOBS"
rm -rf "$DIR/w"

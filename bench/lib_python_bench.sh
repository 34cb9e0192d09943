# bench/lib_python_bench.sh - sourced by bench/python.sh and
# bench/python_map.sh: the helpers both time their runners with, so the
# two tables are measured the same way.  say MESSAGE...: a line on
# stderr; median_of CMD...: runs CMD $RUNS times in a fresh folder
# $TMP/run, prints the median wall time in seconds (3 decimals); a failing
# run prints its stderr and exits 1.  The caller sets RUNS and TMP first.
#
# Must never run anything when sourced (definitions only), and never
# write outside $TMP.
# shellcheck shell=bash

say() { printf '%s\n' "$*" >&2; }

median_of() {
    local k t0 t1 times=()
    for ((k = 0; k < RUNS; k++)); do
        rm -rf "$TMP/run" && mkdir "$TMP/run" || exit 2
        t0=$(date +%s%N)
        (cd "$TMP/run" && "$@" >/dev/null 2>"$TMP/err") || { say "failed: $*"; cat "$TMP/err" >&2; exit 1; }
        t1=$(date +%s%N)
        times+=("$(( (t1 - t0) / 1000 ))")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.3f\n", m/1e6}'
}

#!/usr/bin/env bash
# bench/isolate.sh - what --isolate costs (issue 24): wall time of the same
# run in threads and isolated, medians of BENCH_REPS runs (default 5), runs
# interleaved so that load changes hit both alike.
#   empty 10^7 indices at -j1 and -j2 (the index loop's overhead: runs of
#     indices per round trip; the goal is at most 2x threads)
#   noise 20000 images on tmpfs (/dev/shm) at -j1 and -j2 (goal 1.05x)
#   one index handed alone: 20000 failat indices that each fail (every=1,
#     --keep-going) end a run each, so each costs one round trip; the
#     difference to the same run without failures, per index, is it
# Prints one line per case: "case -j threads_s isolated_s ratio".
# Usage: bench/isolate.sh [BUILD]   (BUILD default build; needs
# build/wsrun and build/plugins/{empty,noise}.so).  Writes only under
# /dev/shm/wsrun-isolate-bench.*, removed at the end.
set -uo pipefail
B=${1:-build}
W=$B/wsrun
REPS=${BENCH_REPS:-5}
[ -x "$W" ] || { echo "isolate bench: $W missing (make all)"; exit 2; }
D=$(mktemp -d /dev/shm/wsrun-isolate-bench.XXXXXX) || exit 2
trap 'rm -rf "$D"' EXIT

# secs CMD...: wall seconds of one run (stdout and stderr dropped).
secs() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    [ $? -lt 2 ] || echo "isolate bench: failed: $*" >&2
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# case NAME JOBS ARGS...: threads then --isolate, REPS times interleaved.
bench_case() {
    local name=$1 j=$2 r t i
    shift 2
    : >"$D/t" && : >"$D/i"
    for r in $(seq "$REPS"); do
        rm -rf "$D/out" && mkdir -p "$D/out"
        secs "$W" -j "$j" -q "$@" >>"$D/t"
        rm -rf "$D/out" && mkdir -p "$D/out"
        secs "$W" -j "$j" -q --isolate=force "$@" >>"$D/i"
    done
    t=$(median <"$D/t")
    i=$(median <"$D/i")
    printf '%-22s -j%-2s threads %8.3f s  isolated %8.3f s  ratio %5.2f\n' "$name" "$j" "$t" "$i" \
        "$(echo "$i / $t" | bc -l)"
}

echo "isolate bench: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $REPS reps"
for j in 1 2; do
    bench_case "empty 10^7" "$j" -p empty -n 10000000
done
for j in 1 2; do
    bench_case "noise 20000 (tmpfs)" "$j" -p noise -n 20000 -o prefix="$D/out/img_"
done
# The round trip of one index: --retries makes the pool hand each retry of
# a failing index alone; 20000 indices that fail once each (failat every=1
# is not isolatable: =force) cost 20000 single-index round trips more than
# the same run without failures.
if [ -f "$B/test-plugins/failat.so" ]; then
    for j in 1; do
        a=$(secs "$W" -j $j -q --isolate=force -p "$B/test-plugins/failat.so" -n 20000)
        b=$(secs "$W" -j $j -q --isolate=force --keep-going -p "$B/test-plugins/failat.so" \
            -n 20000 -o every=1)
        printf 'one index alone (round trip)  -j%s  %.1f us  (20000 failing indices: %.3f s, none: %.3f s)\n' \
            "$j" "$(echo "($b - $a) / 20000 * 1000000" | bc -l)" "$b" "$a"
    done
fi

#!/usr/bin/env bash
# run.sh TARGET... - `make fuzz` / `make fuzz-ci`: replays the regression
# inputs of each target (tests/fuzz/regress/<target>/, crashes found
# earlier), then fuzzes it for $FUZZ_SECONDS from the seeds in
# tests/fuzz/corpus/<target>/.  FUZZ_PARALLEL=1 runs the targets side by
# side (fuzz-ci: the same wall time per target, less in all).  New
# interesting inputs go to a working corpus under $FUZZ_DIR, never into the
# source tree; a crash is saved as $FUZZ_DIR/crash-<target>-* and fails the
# run (copy it into tests/fuzz/regress/<target>/ with the fix).
set -u
FUZZ_DIR=${FUZZ_DIR:?}
SECONDS_EACH=${FUZZ_SECONDS:-300}
HERE=$(cd "$(dirname "$0")" && pwd)

# fuzz_one TARGET: prints one result line; exit status 0 when no crash.
fuzz_one() {
    local t=$1 bin=$FUZZ_DIR/fuzz_$1 work=$FUZZ_DIR/corpus-$1 regress=$HERE/regress/$1
    mkdir -p "$work"
    if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
        if ! "$bin" -runs=0 "$regress"/* >"$FUZZ_DIR/$t-regress.log" 2>&1; then
            echo "fuzz $t: a regression input crashes again (see $FUZZ_DIR/$t-regress.log)"
            return 1
        fi
    fi
    # -rss_limit_mb: a decoder that allocates without bound is a finding too.
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$FUZZ_DIR/crash-$t-" "$work" "$HERE/corpus/$t" >"$FUZZ_DIR/$t.log" 2>&1
    local rc=$? runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FUZZ_DIR/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "$FUZZ_DIR/$t.log" | tail -1)
    if [ "$rc" -ne 0 ]; then
        echo "fuzz $t: FAILED (exit $rc) after ${runs:-?} runs; see $FUZZ_DIR/$t.log"
        grep -m3 -E 'ERROR|SUMMARY|==[0-9]+==' "$FUZZ_DIR/$t.log"
        return 1
    fi
    echo "fuzz $t: ${runs:-?} runs in ${SECONDS_EACH} s, ${cov:-cov ?}, no crash"
}

failed=0
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
    pids=()
    for t in "$@"; do
        fuzz_one "$t" >"$FUZZ_DIR/$t.result" &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || failed=1
        cat "$FUZZ_DIR/$(eval echo "\${$((i + 1))}").result"
    done
else
    for t in "$@"; do
        fuzz_one "$t" || failed=1
    done
fi
exit $failed

#!/usr/bin/env bash
# limits.sh - worker memory against an address-space limit (issue 23 item
# 2): every worker reserves its C stack (--stack, default 64M) and a
# quarter of that for fork-join frames, and reserved space counts against
# `ulimit -v`.  The default -j of a 64-core node must start under a 16 GB
# limit and -j1 under 200 MB; where threads still cannot start, wsrun
# exits 2 with ONE line naming the reservation against the limit and the
# way out.  Uses $WSRUN_BUILD/wsrun; writes only into its scratch folder.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start limits limits
[ -x "$W" ] || { echo "limits: $W not built"; exit 2; }
# A sanitizer's shadow memory is itself reserved address space: no build
# under ASan or TSan starts under these limits, whatever wsrun reserves.
if grep -qaE '__(a|t)san_init' "$W"; then # gcc's or clang's sanitizers
    echo "limits: skipped in a sanitizer build (its shadow memory is address space)"
    cli_finish
    exit
fi

# limited NAME KB WANT_STATUS WANT_OUT -- ARGS...: wsrun ARGS under
# `ulimit -v KB`; status and stdout as given, and for status 2 exactly one
# stderr line with the cause and the way out.
limited() {
    local name=$1 kb=$2 want=$3 out=$4
    shift 5
    (ulimit -v "$kb" && exec "$W" "$@") >"$SCRATCH/out" 2>"$SCRATCH/err"
    local rc=$? lines
    lines=$(wc -l <"$SCRATCH/err")
    if [ $rc -ne "$want" ]; then
        bad "$name: status $rc, want $want; stderr: $(head -3 "$SCRATCH/err")"
    elif [ "$want" -eq 0 ] && [ "$(cat "$SCRATCH/out")" != "$out" ]; then
        bad "$name: stdout '$(cat "$SCRATCH/out")', want '$out'"
    elif [ "$want" -eq 2 ] && { [ "$lines" -ne 1 ] ||
        ! grep -q "^wsrun: cannot run: only [0-9]* of $out workers could start (.*): each reserves [0-9]* MiB of address space (its stack and frames), $out x [0-9]* MiB = [0-9]* MiB against the address-space limit (ulimit -v) of [0-9]* MiB; use a smaller -j or --stack SIZE, or raise ulimit -v$" "$SCRATCH/err"; }; then
        bad "$name: $lines stderr lines: $(head -3 "$SCRATCH/err")"
    else
        ok
    fi
}

limited j61-16GB 16000000 0 "empty = 10 indices" -- -p empty -n 10 -j 61
limited j1-200MB 200000 0 "empty = 10 indices" -- -p empty -n 10 -j 1
limited j61-2GB 2000000 2 61 -- -p empty -n 10 -j 61
limited j4-stack1G-200MB 200000 2 4 -- -p empty -n 10 -j 4 --stack 1G
# A small stack is enough for the shipped fork-join workloads (what they
# touch: docs/design.md, "Worker memory"); a larger one is there for those
# who recurse deeper.
limited fib-256K 200000 0 "fib(27) = 196418" -- -p fib -o n=27 -j 2 --stack 256K
limited fib-1G 16000000 0 "fib(27) = 196418" -- -p fib -o n=27 -j 2 --stack 1G

# The frame stack follows --stack (SIZE/256 frames), and its message says so.
"$W" -p "$FIXTURES/forkmisuse.so" -n 1 -o where=deep --stack 1M >/dev/null 2>"$SCRATCH/err"
rc=$?
if [ $rc -eq 134 ] && grep -qF "forkmisuse: fork-join nesting deeper than 4096 frames on worker 0 (wsrun --stack SIZE gives SIZE/256 frames)" "$SCRATCH/err"; then ok
else bad "stack-frames: status $rc, stderr: $(head -2 "$SCRATCH/err")"; fi
cli_finish

#!/usr/bin/env bash
# typed-tasks.sh - the typed fork-join macros of wsrun.h (issue 15): a
# correct tree sum built with -DWS_DEBUG_FORKJOIN runs at -j1..4; each
# misuse the types cannot rule out is reported naming the task (then
# abort, status 134) at -j1, where no frame is ever published so the
# check sees every frame; what the types do rule out fails to compile, in
# C and in C++.  Run from the repository root; needs $WSRUN_BUILD and cc,
# g++.  Writes only into its scratch folder under /tmp.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start typed-tasks typed
P=$FIXTURES/taskmisuse.so
[ -f "$P" ] || { echo "typed-tasks: $P not built"; exit 2; }

for j in 1 2 3 4; do
    out=$("$W" -p "$P" -j $j -o mode=ok -o depth=14 2>&1)
    if [ $? -eq 0 ] && [ "$out" = "taskmisuse: sum = 16384" ]; then ok
    else bad "correct tree sum at -j$j (debug build) printed: $out"; fi
done

# misuse MODE MESSAGE: status 134 and the report as the first line.
misuse() {
    "$W" -p "$P" -j 1 -o mode="$1" >"$SCRATCH/out" 2>"$SCRATCH/err"
    local rc=$?
    if [ $rc -eq 134 ] && [ "$(head -1 "$SCRATCH/err")" = "wsrun: taskmisuse: fork-join misuse in task $2" ] &&
        [ ! -s "$SCRATCH/out" ]; then ok
    else bad "mode=$1: status $rc, stderr: $(head -2 "$SCRATCH/err")"; fi
}
misuse order "wrong_order: the last unsynced spawn is of another task than WS_AWAIT's leaves"
misuse extra "extra_await: no spawn left to sync for WS_AWAIT of other"
misuse unsynced "never_synced: returned with spawns never synced (WS_AWAIT)"

# Issue 23 item 9: in a normal build (no WS_DEBUG_FORKJOIN) a forgotten
# WS_AWAIT deep in the recursion is named, every time, at every -j; the
# correct task beside it gives fib's value.
# forgotten F J MODE TASK: status 134, the report naming TASK, no output.
forgotten() {
    "$W" -p "$1" -j "$2" -o mode="$3" >"$SCRATCH/out" 2>"$SCRATCH/err"
    local rc=$?
    if [ $rc -eq 134 ] && [ "$(head -1 "$SCRATCH/err")" = "wsrun: taskforget: fork-join misuse in task $4: returned with spawns never synced (WS_AWAIT)" ] &&
        [ ! -s "$SCRATCH/out" ]; then ok
    else bad "forgotten await ($1, mode=$3) at -j$2: status $rc, stderr: $(head -2 "$SCRATCH/err")"; fi
}
F=$FIXTURES/taskforget.so
for j in 1 2 3 4; do
    out=$("$W" -p "$F" -j $j -o mode=ok 2>&1)
    if [ $? -eq 0 ] && [ "$out" = "taskforget: fib = 6765" ]; then ok
    else bad "taskforget ok at -j$j printed: $out"; fi
    forgotten "$F" $j forget forgetful
    # A void task awaiting in a loop: the check cannot fold away there.
    forgotten "$F" $j loop loopy
done
# The body is inlined into the check by always_inline: the same at -O0.
mkdir -p "$SCRATCH/o0"
if cc -std=c11 -O0 -Iinclude -fPIC -shared tests/plugins/taskforget.c \
    -o "$SCRATCH/o0/taskforget.so" 2>"$SCRATCH/cc.out"; then
    forgotten "$SCRATCH/o0/taskforget.so" 1 forget forgetful
    forgotten "$SCRATCH/o0/taskforget.so" 2 loop loopy
else bad "taskforget.c did not build at -O0: $(head -3 "$SCRATCH/cc.out")"; fi

# What cannot be written: a spawn or await outside a task body (no frame
# top to use), arguments over 32 bytes, a value over 8 bytes.
cant_compile() { # NAME FRAGMENT SOURCE
    local name=$1 fragment=$2 src=$3 cc
    for cc in "cc -std=c11 -x c" "g++ -std=c++17 -x c++"; do
        printf '#include "wsrun.h"\n%s\n' "$src" >"$SCRATCH/t.src"
        if $cc -Iinclude -fsyntax-only "$SCRATCH/t.src" >"$SCRATCH/cc.out" 2>&1; then
            bad "$name compiled with ${cc%% *}"
        elif grep -qF -- "$fragment" "$SCRATCH/cc.out"; then ok
        else bad "$name: ${cc%% *} failed without '$fragment':"; head -3 "$SCRATCH/cc.out"; fi
    done
}
cant_compile spawn-outside-task "ws__ctx" \
    'WS_TASK_1(int, t, int, x) { return x; }
int f(void); int f(void) { WS_SPAWN(t, 1); return WS_AWAIT(t); }'
cant_compile args-too-big "its arguments take more than 32 bytes" \
    'typedef struct { char b[24]; } blob;
WS_TASK_2(int, t, blob, a, blob, b) { return a.b[0] + b.b[0]; }'
cant_compile value-too-big "its value takes more than 8 bytes" \
    'typedef struct { char b[16]; } blob;
WS_TASK_1(blob, t, int, x) { blob r = {{0}}; r.b[0] = (char)x; return r; }'
# ... and the same declarations compile when they fit (the check can pass).
cat >"$SCRATCH/fit.c" <<'EOF'
#include "wsrun.h"
typedef struct { char b[16]; } blob;
WS_TASK_2(int, t, blob, a, blob, b) { return a.b[0] + b.b[0]; }
EOF
check "32 bytes of arguments compile" cc -std=c11 -Iinclude -fsyntax-only "$SCRATCH/fit.c"

# Every arity, void or not, compiles without a warning under -Wpedantic
# in C11 and C++11 (no empty __VA_ARGS__), release and debug builds.
cat >"$SCRATCH/arity.c" <<'EOF'
#include "wsrun.h"
WS_TASK_0(int, zero) { return 0; }
WS_VOID_TASK_0(nothing) { WS_POLL(); }
WS_TASK_1(int64_t, fib, int64_t, n)
{
    if (n < 2)
        return n;
    WS_SPAWN(fib, n - 2);
    int64_t a = WS_CALL(fib, n - 1);
    return a + WS_AWAIT(fib);
}
WS_DECLARE_VOID_TASK_2(visit, int64_t *, acc, int, d);
WS_VOID_TASK_2(visit, int64_t *, acc, int, d)
{
    if (d == 0) {
        *acc += 1;
        return;
    }
    WS_SPAWN(visit, acc, d - 1);
    WS_CALL(visit, acc, d - 1);
    WS_AWAIT(visit);
}
WS_TASK_3(int, three, int, a, int, b, int, c) { return a + b + c; }
WS_TASK_4(double, four, int, a, double, b, char, c, void *, d)
{
    (void)d;
    WS_SPAWN(zero);
    WS_SPAWN(nothing);
    WS_AWAIT(nothing);
    return a + b + c + WS_AWAIT(zero) + WS_CALL(zero) + WS_CALL(three, 1, 2, 3);
}
int64_t use_all(ws_ctx *ctx);
int64_t use_all(ws_ctx *ctx)
{
    int64_t acc = 0;
    WS_RUN(ctx, visit, &acc, 3);
    WS_RUN(ctx, nothing);
    return WS_RUN(ctx, fib, 10) + acc + (int64_t)WS_RUN(ctx, four, 1, 2.0, 'a', 0) +
           WS_RUN(ctx, zero);
}
EOF
for flags in "cc -std=c11 -x c" "g++ -std=c++11 -x c++" "cc -std=c11 -x c -DWS_DEBUG_FORKJOIN"; do
    if $flags -Wall -Wextra -Wpedantic -Werror -Iinclude -fsyntax-only "$SCRATCH/arity.c" >"$SCRATCH/cc.out" 2>&1; then ok
    else bad "every arity with $flags -Wpedantic:"; head -5 "$SCRATCH/cc.out"; fi
done

cli_finish

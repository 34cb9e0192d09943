#!/usr/bin/env bash
# watchdog.sh - the test watchdog's own test (make test-watchdog, the first
# part of make test: it guards every other part).  Runs the watchdog on the
# fixtures of tests/watchdog/ that hang, crash, print a stray `wsrun:` line
# or leave a process behind, and checks what it reports, its exit status,
# and that nothing of the fixture's tree is left.  The only place the
# fixtures run.  Needs $WATCHDOG_DIR (else $WSRUN_BUILD/watchdog).
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start watchdog watchdog
WD=$(cd "${WATCHDOG_DIR:-$BUILD/watchdog}" && pwd) || { echo "watchdog: no build"; exit 2; }
dog=$WD/watchdog
cd "$SCRATCH" || exit 2

# The stacks come from gdb attached to the stuck processes: as root, or
# where Yama lets a process trace what it did not start itself.
stacks=1
if [ "$(id -u)" -ne 0 ] && [ "$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)" != 0 ]; then
    stacks=0
    echo "watchdog: not root and Yama's ptrace_scope is set: the stack checks are skipped"
fi

# run_dog ARGS...: the watchdog's output in out, its status in rc.
run_dog() { "$dog" "$@" >out 2>&1; rc=$?; }

# until_ready MARKER ARGS...: run_dog --limit L ARGS..., doubling L while
# the output lacks MARKER (the fixture was not in place before the limit:
# only on a very slow machine), so the outcome never depends on speed.
until_ready() {
    local marker=$1 limit=2
    shift
    while :; do
        run_dog --limit "$limit" "$@"
        grep -qF -- "$marker" out && return 0
        [ "$limit" -ge 256 ] && return 1
        limit=$((limit * 2))
    done
}

# leftovers PATTERN: processes whose command line matches (none expected).
leftovers() { pgrep -f -- "$1" | grep -vx "$$" || true; }

# ------------------------------------------------------------ a hang
until_ready "hang: all stuck" --name fixture/hang -- "$WD/hang" hang ||
    bad "the hang fixture never got in place; output: $(cat out)"
check "a hang exits 124 (got $rc)" test "$rc" -eq 124
check "a hang is named with its limit" grep -q "watchdog: fixture/hang did not finish within its limit of [0-9]* s" out
check "a hang ends with one FAILED line naming it" grep -q "^watchdog: FAILED: fixture/hang hung" out
check "every process of the tree is listed (3)" test "$(grep -c '^watchdog: process [0-9]* (parent' out)" -eq 3
if [ "$stacks" = 1 ]; then
    check "the grandchild's stack is printed" grep -q fixture_grandchild_stuck out
    check "the second thread's stack is printed" grep -q fixture_thread_stuck out
fi
check "nothing of the hung tree is left" test -z "$(leftovers "$WD/hang hang")"

# ------------------------------------------------------------ a hung test case
until_ready "watchdog_fixture::hangs_here" --criterion --name fixture/criterion -- \
    "$WD/hang_criterion" --jobs 1 || bad "the Criterion fixture never ran its hanging case: $(cat out)"
check "a hung Criterion case exits 124 (got $rc)" test "$rc" -eq 124
check "the running test case is named" grep -q "^watchdog: FAILED: fixture/criterion hung (limit [0-9]* s, tests/limits.txt) in watchdog_fixture::hangs_here; its tree was killed" out
check "the finished case is not named as running" bash -c '! grep "FAILED" out | grep -q "::passes"'
check "nothing of the Criterion tree is left" test -z "$(leftovers "$WD/hang_criterion")"

# A Criterion run that passes reads as it would without the watchdog.
run_dog --criterion --limit 300 --name fixture/criterion -- "$WD/hang_criterion" --filter 'watchdog_fixture/passes'
check "a passing Criterion run exits 0 (got $rc)" test "$rc" -eq 0
check "its synthesis line is kept" grep -q "Synthesis: Tested: 1 | Passing: 1 | Failing: 0" out
check "the --verbose lines the watchdog asked for are not shown" bash -c '! grep -qE "^\[(RUN |PASS)\]" out'

# ------------------------------------------------------------ the limits table
printf 'fixture/* 2\n' >table
run_dog --table table --name fixture/hang -- "$WD/hang" hang
check "the table's limit is used" grep -q "within its limit of 2 s" out
printf 'fixture/* 2 EXTRA_SECONDS\n' >table
EXTRA_SECONDS=1 run_dog --table table --name fixture/other -- "$WD/hang" pass
check "a passing program under a table limit exits 0 (got $rc)" test "$rc" -eq 0
printf 'other/* 300\n' >table
run_dog --table table --name fixture/hang -- "$WD/hang" pass
check "a program without a limit is refused with 2 (got $rc)" test "$rc" -eq 2
check "... naming it and the table" grep -q "watchdog: fixture/hang has no limit in table" out
check "nothing of the table runs is left" test -z "$(leftovers "$WD/hang hang")"

# ------------------------------------------------------------ other failures
run_dog --limit 300 --name fixture/stray -- "$WD/hang" stray
check "a stray wsrun: line fails a passing program (got $rc)" test "$rc" -eq 1
check "... naming the line" grep -q "^watchdog: FAILED: fixture/stray passed but printed 1 line(s) starting with 'wsrun:' that no test captured (the first: \"wsrun: stray line that no test captured\")" out

run_dog --limit 300 --grace 1 --name fixture/leave -- "$WD/hang" leave
check "a process left behind fails a passing program (got $rc)" test "$rc" -eq 1
check "... saying so" grep -q "^watchdog: FAILED: fixture/leave passed but left 1 process(es) behind" out
check "... and the process is gone" test -z "$(leftovers "$WD/hang leave")"

run_dog --limit 300 --name fixture/segv -- "$WD/hang" segv
check "a crash keeps its status 139 (got $rc)" test "$rc" -eq 139
check "... and is named" grep -q "^watchdog: FAILED: fixture/segv was killed by signal 11" out

run_dog --limit 300 --name fixture/pass -- "$WD/hang" pass
check "a clean pass exits 0 (got $rc)" test "$rc" -eq 0
check "... and prints nothing" test ! -s out

run_dog --limit 300 --name fixture/missing -- "$SCRATCH/no-such-program"
check "a program that cannot start gives 127 (got $rc)" test "$rc" -eq 127

cli_finish

#!/usr/bin/env bash
# isolate.sh - --isolate (issue 24): a plugin's crash, exit, endless loop,
# runaway allocation or SIGKILL at one index fails that index only, named
# with its cause; every other index runs exactly once (counted in
# ws_shared_alloc memory by the isocrash fixture, printed by its finish);
# the exit status is the documented one; no worker process or temporary
# file is left, also after kill -9 of wsrun.  A plugin without the flag is
# refused.  No timing: waits are on files and processes (the loops' bounds
# only turn a hang into a failure).  Run from anywhere; writes only into a
# fresh folder under /tmp, which it removes.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start isolate isolate
[ -f "$FIXTURES/isocrash.so" ] || { echo "isolate: fixture plugins missing in $FIXTURES"; exit 2; }
cd "$SCRATCH" || exit 2
# A copy under the scratch folder: its path tells this test's processes
# (forked children keep wsrun's command line) from anyone else's.
cp "$FIXTURES/isocrash.so" "$SCRATCH/isocrash.so" || exit 2
P=$SCRATCH/isocrash.so
N=40
AT=13

no_process_left() { ! pgrep -f "$P" >/dev/null; }
# wait_for COMMAND...: until it succeeds (at most ~20 s, a hang guard).
wait_for() { local k; for k in $(seq 200); do "$@" && return 0; sleep 0.1; done; return 1; }

# crash_case JOBS HOW CAUSE [OPTIONS...]: index AT misbehaves, the rest run once.
crash_case() {
    local j=$1 how=$2 cause=$3
    shift 3
    mkdir -p "out-$how-$j"
    "$W" -p "$P" -n $N -j "$j" --isolate --keep-going -o how="$how" -o at=$AT \
        -o write="out-$how-$j/f" "$@" >out 2>err
    local rc=$?
    check "$how -j$j: exit status 1 (got $rc)" test $rc -eq 1
    check "$how -j$j: index $AT named with its cause" \
        grep -q "index $AT failed (worker [0-9]*): .*$cause" err
    check "$how -j$j: every index ran exactly once" grep -qx "runs: $N of $N once; status 1" out
    check "$how -j$j: one failure counted" grep -q "1 of $N tasks failed" err
    check "$how -j$j: the other indices' files, no temporary" \
        test "$(ls -A "out-$how-$j" | wc -l)" -eq $((N - 1))
    check "$how -j$j: no worker process left" no_process_left
}

for j in 1 2; do
    crash_case $j segv "crashed with SIGSEGV (exit status 139; its crash report is above)"
    crash_case $j abort "crashed with SIGABRT"
    crash_case $j exit "exit status 3 (exit() or _exit() called in plugin code)"
    crash_case $j _exit "exit status 5"
    crash_case $j stack "crashed with SIGSEGV"
    check "stack -j$j: the child's report says stack overflow" grep -q "stack overflow" err
    crash_case $j kill "killed by SIGKILL"
    crash_case $j loop "timed out after 1 s: its worker process (pid [0-9]*) was killed" --timeout 1
    # (a sanitizer's allocator ends the process its own way: exit 66 or 1;
    # ASan's spins on its own failed mappings under RLIMIT_DATA: skipped)
    nm -D "$W" 2>/dev/null | grep -q __asan_init ||
    crash_case $j alloc "its worker process (pid [0-9]*) \(crashed with SIGABRT\|ended with exit status\)" \
        --worker-memory 64M
done

# Killed from outside at a known index: the fixture writes its pid, then waits.
for j in 1 2; do
    rm -f pid
    "$W" -p "$P" -n $N -j $j --isolate --keep-going -o how=wait -o at=$AT -o pidfile=pid \
        >out 2>err &
    wpid=$!
    if wait_for test -s pid; then kill -KILL "$(cat pid)"; else bad "wait -j$j: no pid file"; fi
    wait $wpid
    rc=$?
    check "outside SIGKILL -j$j: exit status 1 (got $rc)" test $rc -eq 1
    check "outside SIGKILL -j$j: index $AT named, killed by SIGKILL" \
        grep -q "index $AT failed (worker [0-9]*): its worker process (pid $(cat pid)) was killed by SIGKILL" err
    check "outside SIGKILL -j$j: every index ran exactly once" \
        grep -qx "runs: $N of $N once; status 1" out
    check "outside SIGKILL -j$j: no worker process left" no_process_left
done

# Without --keep-going: the first failure stops the run, exit 1, index named.
"$W" -p "$P" -n $N -j 2 --isolate -o how=segv -o at=0 >out 2>err
rc=$?
check "segv without --keep-going: exit 1 (got $rc)" test $rc -eq 1
check "segv without --keep-going: index 0 named" grep -q "index 0 failed" err
check "segv without --keep-going: no worker process left" no_process_left

# --retries: a retry after a crash runs in a fresh process and succeeds.
"$W" -p "$P" -n $N -j 2 --isolate --retries 1 -o how=segv -o at=$AT -o once=true >out 2>err
rc=$?
check "segv once, --retries 1: exit 0 (got $rc)" test $rc -eq 0
check "segv once, --retries 1: the index ran twice, the rest once" \
    grep -qx "index $AT ran 2 times" out
check "segv once, --retries 1: $((N - 1)) ran once" grep -qx "runs: $((N - 1)) of $N once; status 0" out

# kill -9 of wsrun: its worker processes end too (PR_SET_PDEATHSIG).
rm -f pid
"$W" -p "$P" -n $N -j 2 --isolate -o how=wait -o at=$AT -o pidfile=pid >out 2>err &
wpid=$!
if wait_for test -s pid; then
    { kill -KILL $wpid; wait $wpid; } 2>/dev/null
    check "kill -9 of wsrun: no worker process left" wait_for no_process_left
else
    bad "kill -9 of wsrun: no pid file"
    kill -KILL $wpid
fi

# ------------------------------------------------ outputs as in threads
# noise, read and fill give the bytes a thread run gives, at -j1/-j2/-j4.
"$W" -p noise -n 300 -j 2 -q -o prefix=ref/img_ 2>/dev/null ||
    { mkdir -p ref && "$W" -p noise -n 300 -j 2 -q -o prefix=ref/img_; }
"$W" -p read -j 2 -q -o input='ref/img_%d.png' -o output=ref.csv
"$W" -p fill -j 2 -q -o input='ref/img_%d.png' -o output=ref.npy
for j in 1 2 4; do
    mkdir -p "iso$j"
    "$W" -p noise -n 300 -j $j -q --isolate -o prefix="iso$j/img_"
    check "noise --isolate -j$j: exit 0" test $? -eq 0
    check "noise --isolate -j$j: the thread run's bytes" diff -r ref "iso$j"
    "$W" -p read -j $j -q --isolate -o input='ref/img_%d.png' -o output="read$j.csv"
    check "read --isolate -j$j: the thread run's manifest" cmp -s ref.csv "read$j.csv"
    "$W" -p fill -j $j -q --isolate -o input='ref/img_%d.png' -o output="fill$j.npy"
    check "fill --isolate -j$j: the thread run's array" cmp -s ref.npy "fill$j.npy"
done
check "no worker process left after the output runs" no_process_left

# Processes of this test's wsrun $1: its template's children.
children_of() { local t; for t in $(pgrep -P "$1"); do pgrep -P "$t"; done; }
files_at_least() { [ "$(ls -A "$1" 2>/dev/null | grep -c '\.png$')" -ge "$2" ]; }

# The files of a whole isocrash write= run, made in threads.
mkdir -p wref
"$W" -p "$P" -n $N -j 2 -o write=wref/f >/dev/null
# Ctrl-C while index AT waits for the stop: SIGINT to wsrun alone (a
# terminal's goes to the children too, which ignore it); the children stop
# too, exit 130, nothing left running; --resume then finishes the files.
for j in 1 2; do
    rm -rf "int$j" pid "int$j.journal" && mkdir -p "int$j"
    "$W" -p "$P" -n $N -j $j --isolate --journal "int$j.journal" -o how=hold -o at=$AT \
        -o pidfile=pid -o write="int$j/f" >out 2>err &
    wpid=$!
    if wait_for test -s pid; then kill -INT $wpid; else bad "hold -j$j: no pid file"; fi
    wait $wpid
    rc=$?
    check "SIGINT under --isolate -j$j: exit 130 (got $rc)" test $rc -eq 130
    check "SIGINT under --isolate -j$j: no worker process left" no_process_left
    check "SIGINT under --isolate -j$j: no temporary left" \
        test "$(ls -A "int$j" | grep -vc '^f[0-9]*$')" -eq 0
    "$W" -p "$P" -n $N -j $j --isolate --journal "int$j.journal" --resume -o how=hold \
        -o at=$AT -o pidfile=pid -o write="int$j/f" >out 2>err
    check "--resume after SIGINT under --isolate -j$j: exit 0" test $? -eq 0
    check "--resume after SIGINT under --isolate -j$j: every file as in threads" \
        diff -r wref "int$j"
done

# A second SIGINT while index AT never ends: wsrun exits at once, 130, and
# takes its worker processes along.
# (Exiting at once leaves worker threads unjoined on purpose: a TSan build
# would report them and change the status, so that report is off here.)
rm -rf int2x pid && mkdir -p int2x
TSAN_OPTIONS="${TSAN_OPTIONS:-} report_thread_leaks=0" \
    "$W" -p "$P" -n $N -j 2 --isolate -o how=wait -o at=$AT -o pidfile=pid -o write=int2x/f \
    >out 2>err &
wpid=$!
if wait_for test -s pid; then
    kill -INT $wpid
    wait_for grep -q "stopping after the running tasks" err && kill -INT $wpid
else
    bad "second SIGINT: no pid file"
fi
wait $wpid
rc=$?
check "second SIGINT under --isolate: exit 130 (got $rc)" test $rc -eq 130
check "second SIGINT under --isolate: no worker process left" wait_for no_process_left
check "second SIGINT under --isolate: no temporary left" \
    test "$(ls -A int2x | grep -vc '^f[0-9]*$')" -eq 0

# kill -9 of wsrun while index AT waits for ever, then --resume.
rm -rf k9 pid && mkdir -p k9
"$W" -p "$P" -n $N -j 2 --isolate --journal k9.journal -o how=wait -o at=$AT -o pidfile=pid \
    -o write=k9/f >out 2>err &
wpid=$!
if wait_for test -s pid; then
    { kill -KILL $wpid; wait $wpid; } 2>/dev/null
else
    bad "kill -9 resume: no pid file"
fi
check "kill -9 of wsrun with a journal: no worker process left" wait_for no_process_left
"$W" -p "$P" -n $N -j 2 --isolate --journal k9.journal --resume -o how=wait -o at=$AT \
    -o pidfile=pid -o write=k9/f >out 2>err
check "--resume after kill -9 under --isolate: exit 0" test $? -eq 0
check "--resume after kill -9 under --isolate: every file as in threads" diff -r wref k9

# Stress: SIGKILL a random worker process three times during noise with
# --keep-going --retries 3 (so no index fails four times): exit 0, the
# thread run's bytes.  The kills come at file counts (events); a machine
# that finishes first only makes the test weaker, never flaky.  20000
# images (issue 24's count): since noise builds small images without
# libpng, 6000 were often all written before the first look (0 kills).
NN=${WSRUN_ISOLATE_STRESS:-20000}
mkdir -p sref && "$W" -p noise -n $NN -j 2 -q -o prefix=sref/img_
for j in 2 4; do
    mkdir -p "st$j"
    "$W" -p noise -n $NN -j $j -q --isolate --keep-going --retries 3 -o prefix="st$j/img_" \
        2>err &
    wpid=$!
    kills=0
    for at in $((NN / 10)) $((NN / 4)) $((NN / 2)); do
        wait_for files_at_least "st$j" $at
        victim=$(children_of $wpid | shuf -n 1)
        [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null && kills=$((kills + 1))
    done
    wait $wpid
    rc=$?
    check "stress -j$j: exit 0 after $kills killed worker processes (got $rc)" test $rc -eq 0
    check "stress -j$j: the thread run's bytes" diff -r sref "st$j"
    echo "isolate: stress -j$j: $kills worker processes killed"
done

# Runs of many indices per round trip, split for thieves between runs:
# still every index exactly once.
for j in 2 4; do
    "$W" -p "$P" -n 2000000 -j $j --isolate >out 2>err
    check "2000000 indices -j$j: exit 0" test $? -eq 0
    check "2000000 indices -j$j: every index exactly once" \
        grep -qx "runs: 2000000 of 2000000 once; status 0" out
done

# Fork-join inside an index runs within its worker process (on one worker).
"$W" -p "$P" -n 20 -j 2 --isolate -o fib=18 >out 2>err
check "fork-join in worker processes: exit 0, right sums" test $? -eq 0
check "fork-join in worker processes: every index once" grep -qx "runs: 20 of 20 once; status 0" out

# WS_PLUGIN_ISOLATE_DEFAULT: isolated without --isolate; --isolate=off not.
# (-j 1: without --isolate wsrun starts its threads before it knows, and
# ends them; a TSan build keeps a thread of its own once one was started,
# so there the isolation would be refused.)
"$W" -p "$FIXTURES/isodefault.so" -n $N -j 1 --keep-going -o how=segv -o at=$AT >out 2>err
rc=$?
check "a plugin isolated by default: a crash fails its index, exit 1 (got $rc)" test $rc -eq 1
check "a plugin isolated by default: index $AT named" grep -q "index $AT failed.*SIGSEGV" err
check "a plugin isolated by default: every index once" grep -qx "runs: $N of $N once; status 1" out
"$W" -p "$FIXTURES/isodefault.so" -n $N -j 2 --isolate=off -o how=segv -o at=$AT >out 2>err
rc=$?
check "--isolate=off: the crash ends wsrun, exit 139 (got $rc)" test $rc -eq 139

# init that leaves a thread running: refused (exit 2), finish still runs.
"$W" -p "$P" -n 4 --isolate -o thread=true >out 2>err
rc=$?
check "init left a thread: --isolate refused, exit 2 (got $rc)" test $rc -eq 2
check "init left a thread: the message says so" \
    grep -q "init left [0-9]* threads\{0,1\} running; worker processes can only be forked" err
check "init left a thread: finish ran" grep -q "^runs: 0 of 4 once; status 1" out

# Refusals.
"$W" -p "$FIXTURES/failat.so" -n 4 --isolate >out 2>err
rc=$?
check "a plugin without WS_PLUGIN_ISOLATABLE: --isolate refused, exit 2 (got $rc)" test $rc -eq 2
check "the refusal says why and names --isolate=force" \
    grep -q "plugin failat is not marked isolatable.*--isolate=force" err
"$W" -p "$FIXTURES/failat.so" -n 4 -j 1 --isolate=force -o at=2 >out 2>err
rc=$?
check "--isolate=force runs it anyway (index 2 fails: exit 1, got $rc)" test $rc -eq 1
check "--isolate=force: index 2 named" grep -q "index 2 failed (worker 0): deliberate" err
for opt in "--timeout 5" "--worker-memory 1G"; do
    "$W" -p "$P" -n 4 $opt >out 2>err
    rc=$?
    check "$opt without --isolate: refused, exit 2 (got $rc)" test $rc -eq 2
    check "$opt without --isolate: the message says so" grep -q "needs --isolate" err
done
"$W" -p "$P" -n 4 --isolate=maybe >out 2>err
check "--isolate=maybe refused" test $? -eq 2
"$W" -p "$P" -n 4 --isolate --worker-memory 12Q >out 2>err
check "--worker-memory 12Q refused" test $? -eq 2


# run_bounded ARGS...: wsrun ARGS with stdout in `out`, stderr in `err`,
# in the background; its exit status, or 124 when it has not ended after
# ~60 s (a hang guard for the cases below, which hung before their fix:
# each waits on events, never on this bound).
run_bounded() {
    rm -f rc.done
    ( "$W" "$@" >out 2>err; echo $? >rc.done ) &
    local sub=$! k
    for k in $(seq 600); do [ -s rc.done ] && break; sleep 0.1; done
    if [ -s rc.done ]; then wait $sub; cat rc.done; return; fi
    pkill -9 -f "$P"; wait $sub; echo 124
}

# A failure stop reaches the running worker processes: ws_stopping turns
# true in them, so a call that polls it ends early (issue 24).  Worker 1's
# worker_init writes `pid` and holds until the run stops; index 0 (worker
# 0's first) waits for that file, then fails.
rm -f pid
rc=$(run_bounded -p "$P" -n $N -j 2 --isolate -o init_how=hold -o worker=1 -o pidfile=pid \
    -o how=fail -o at=0 -o after=pid)
check "failure stop, worker_init holding: exit 1 (got $rc)" test "$rc" -eq 1
check "failure stop, worker_init holding: index 0 named" \
    grep -q "index 0 failed (worker 0): deliberate failure at index 0" err
check "failure stop, worker_init holding: worker 1 started its hold" test -s pid
check "failure stop, worker_init holding: worker 1 ended without a failure of its own" \
    sh -c '! grep -q "worker 1" err'
check "failure stop, worker_init holding: only index 0 ran" grep -qx "runs: 1 of $N once; status 1" out
check "failure stop, worker_init holding: no worker process left" no_process_left
# The same for an index: index 0 holds until the run stops; worker 1's
# worker_init waits for its pid file, then fails (a failure stop too).
rm -f pid
rc=$(run_bounded -p "$P" -n $N -j 2 --isolate -o how=hold -o at=0 -o pidfile=pid \
    -o init_how=fail -o worker=1 -o init_after=pid)
check "failure stop, index holding: exit 1 (got $rc)" test "$rc" -eq 1
check "failure stop, index holding: worker 1's worker_init named" \
    grep -q "worker_init failed on worker 1: deliberate worker_init failure on worker 1" err
check "failure stop, index holding: index 0 ended by the stop, once" \
    grep -qx "runs: 1 of $N once; status 1" out
check "failure stop, index holding: no worker process left" no_process_left

# A busy worker answers a thief (issue: steal from a handed run): index
# AT waits until index AT+1, next in the same worker's run or range, has
# run, which only the other worker's process can do meanwhile.  Before the
# fix worker 0 could not split while its process ran: a hang.  At=0 is
# worker 0's first run of one index, with index 1 in its range; at=300 of
# 3000 comes after cheap indices, which grow the runs handed out, so index
# 301 is most likely in the same run (its tail is taken back).
for at in 0 300; do
    n=$((at * 10 + 40))
    rc=$(run_bounded -p "$P" -n $n -j 2 --isolate -o at=$at -o wait_index=$((at + 1)))
    check "steal from a busy worker, at=$at: exit 0 (got $rc)" test "$rc" -eq 0
    check "steal from a busy worker, at=$at: every index ran exactly once" \
        grep -qx "runs: $n of $n once; status 0" out
    check "steal from a busy worker, at=$at: no worker process left" no_process_left
done
# The same with a journal and a failure after the take-back: exactly once,
# and the failed index named.
rm -f j.jsonl
rc=$(run_bounded -p "$P" -n 3040 -j 2 --isolate --keep-going --journal j.jsonl -o at=300 \
    -o wait_index=301 -o how=fail)
check "steal from a busy worker, then a failure: exit 1 (got $rc)" test "$rc" -eq 1
check "steal from a busy worker, then a failure: index 300 named" \
    grep -q "index 300 failed (worker [01]): deliberate failure at index 300" err
check "steal from a busy worker, then a failure: every index ran exactly once" \
    grep -qx "runs: 3040 of 3040 once; status 1" out

# --timeout covers worker_init and worker_fini in the worker process.
rc=$(run_bounded -p "$P" -n $N -j 1 --isolate --timeout 1 -o init_how=hang)
check "--timeout, worker_init never returns: exit 1 (got $rc)" test "$rc" -eq 1
check "--timeout, worker_init never returns: said so" \
    grep -q "worker_init failed on worker 0: no worker process: timed out after 1 s: its worker process (pid [0-9]*) was killed (during worker_init)" err
check "--timeout, worker_init never returns: no index ran" grep -qx "runs: 0 of $N once; status 1" out
check "--timeout, worker_init never returns: no worker process left" no_process_left
rc=$(run_bounded -p "$P" -n $N -j 1 --isolate --timeout 1 -o fini_how=hang)
check "--timeout, worker_fini never returns: exit 1 (got $rc)" test "$rc" -eq 1
check "--timeout, worker_fini never returns: said so" \
    grep -q "worker 0's process failed at its end (worker_fini): timed out after 1 s" err
check "--timeout, worker_fini never returns: every index ran once" \
    grep -qx "runs: $N of $N once; status 0" out
check "--timeout, worker_fini never returns: no worker process left" no_process_left

# A worker process's pool has --stack's size: 4 MiB of recursion at index
# 3 overflows a 1 MiB stack there (it fits the default 64 MiB).
"$W" -p "$P" -n 10 -j 1 --isolate -o how=deep -o at=3 >out 2>err
rc=$?
check "4 MiB deep in a worker process, default stack: exit 0 (got $rc)" test $rc -eq 0
"$W" -p "$P" -n 10 -j 1 --isolate --stack 1M -o how=deep -o at=3 >out 2>err
rc=$?
check "4 MiB deep in a worker process, --stack 1M: exit 1 (got $rc)" test $rc -eq 1
check "--stack 1M: index 3 fails in its worker process" \
    grep -q "index 3 failed (worker 0): its worker process (pid [0-9]*) crashed" err
nm -D "$W" 2>/dev/null | grep -q __asan_init ||
    check "--stack 1M: the crash report names the 1 MiB stack" \
        grep -q "stack overflow (a worker's stack is 1 MiB)" err
check "--stack 1M: no worker process left" no_process_left

cli_finish

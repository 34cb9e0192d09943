#!/usr/bin/env bash
# run-all.sh - command-line tests of wsrun (`make test-cli`): each case runs
# wsrun and checks its exit status and a fragment of what it printed.
# Uses $WSRUN_BUILD/wsrun, its plugins, and the fixture plugins in
# $WSRUN_BUILD/test-plugins (tests/plugins/*.c).  Runs in a scratch folder
# it removes; must never write into the source tree.  Ends with the line
# "cli: N passed, M failed" and exits non-zero when any case failed.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start cli cli
WSRUN="$W"
[ -x "$WSRUN" ] || { echo "cli: $WSRUN not built"; exit 2; }
[ -f "$FIXTURES/failat.so" ] || { echo "cli: fixture plugins missing in $FIXTURES"; exit 2; }
cd "$SCRATCH" || exit 2

OUT=$SCRATCH/.stdout
ERR=$SCRATCH/.stderr

# run CMD...: runs it with stdout/stderr captured; sets $rc.
run() {
    "$@" >"$OUT" 2>"$ERR" </dev/null
    rc=$?
}

bad() {
    failed=$((failed + 1))
    echo "FAIL: $case_name: $1"
    echo "  command: ${cmd[*]}"
    sed -n '1,8s/^/  stdout: /p' "$OUT"
    sed -n '1,8s/^/  stderr: /p' "$ERR"
}

# expect NAME RC WHERE FRAGMENT -- CMD...
#   WHERE is out, err, or none (only the status is checked).
expect() {
    case_name=$1 want_rc=$2 where=$3 fragment=$4
    shift 5
    cmd=("$@")
    run "$@"
    if [ "$rc" -ne "$want_rc" ]; then
        bad "exit status $rc, expected $want_rc"
        return
    fi
    local file=$ERR
    [ "$where" = out ] && file=$OUT
    if [ "$where" != none ] && ! grep -qF -- "$fragment" "$file"; then
        bad "std$where lacks: $fragment"
        return
    fi
    passed=$((passed + 1))
}

# lacks WHERE FRAGMENT: the last command's output must not contain it
# (counted as part of the case just run).
lacks() {
    local file=$ERR
    [ "$1" = out ] && file=$OUT
    if grep -qF -- "$2" "$file"; then
        passed=$((passed - 1))
        bad "std$1 should not contain: $2"
    fi
}

W=$WSRUN
export_fixtures() { export WSRUN_PLUGIN_PATH=$FIXTURES; }

# ------------------------------------------------------------ usage
expect no-args 2 err "wsrun: --plugin is required" -- "$W"
expect help 0 out "usage: wsrun --plugin NAME" -- "$W" --help
expect help-short 0 out "Exit status: 0" -- "$W" -h
expect version 0 out "wsrun 1.5.0 (plugin ABI 1.4)" -- "$W" --version
expect version-short 0 out "plugin ABI 1." -- "$W" -V
expect unknown-long 2 err "wsrun: unknown option '--bogus'" -- "$W" --bogus
expect unknown-short 2 err "wsrun: unknown option '-x'" -- "$W" -x
expect missing-value-long 2 err "wsrun: option '--count' needs a value" -- "$W" -p hello --count
expect missing-value-short 2 err "wsrun: option '-n' needs a value" -- "$W" -p hello -n
expect stray-argument 2 err "wsrun: unexpected argument 'extra'" -- "$W" -p hello -n 1 extra
expect double-dash-ends-options 2 err "unexpected argument '--quiet'" -- "$W" -p hello -n 1 -- --quiet

# ------------------------------------------------------------ counts
for c in -5 abc 12x "" 0x10 +5 " 5" 1e3; do
    expect "count-'$c'" 2 err "wsrun: --count: expected a whole number from 0 to 9223372036854775807, got '$c'" -- "$W" -p hello -n "$c"
done
expect count-2^63 2 err "wsrun: --count: 9223372036854775808 is out of range 0..9223372036854775807" -- "$W" -p hello -n 9223372036854775808
expect count-overflow 2 err "--count: expected a whole number" -- "$W" -p hello -n 99999999999999999999
expect count-equals-form 0 none "" -- "$W" -p hello --count=5 -q
expect count-space-form 0 none "" -- "$W" -p hello --count 5 -q
expect jobs-zero 2 err "wsrun: --jobs: 0 is out of range 1..4096" -- "$W" -p hello -n 1 -j 0
expect jobs-too-many 2 err "wsrun: --jobs: 4097 is out of range 1..4096" -- "$W" -p hello -n 1 -j 4097
expect jobs-junk 2 err "wsrun: --jobs: expected a whole number from 1 to 4096, got '2x'" -- "$W" -p hello -n 1 --jobs=2x
expect seed-junk 2 err "wsrun: --seed: expected a whole number" -- "$W" -p hello -n 1 --seed -1
expect retries-junk 2 err "wsrun: --retries: expected a whole number" -- "$W" -p hello -n 1 --retries x

# ------------------------------------------------------------ loading
expect not-found 2 err "wsrun: plugin 'nosuch' not found (looked in: $BUILD/plugins, $BUILD/../lib/wsrun)" -- "$W" -p nosuch -n 1
WSRUN_PLUGIN_PATH=/nope1:/nope2 expect not-found-lists-path 2 err "(looked in: /nope1, /nope2, $BUILD/plugins" -- "$W" -p nosuch -n 1
expect by-name 0 none "" -- "$W" -p hello -n 3 -q
expect by-name-with-so 0 none "" -- "$W" --plugin hello.so --count 3 -q
cp "$FIXTURES/failat.so" "$SCRATCH/"
expect cwd-not-searched 2 err "wsrun: plugin 'failat' not found" -- "$W" -p failat -n 1
expect cwd-with-dot-slash 0 out "failat: finish status=0 calls=2" -- "$W" -p ./failat.so -n 2
expect path-missing 2 err "wsrun: plugin './gone.so' not found: No such file or directory" -- "$W" -p ./gone.so -n 1
echo "not a shared object" >"$SCRATCH/garbage.so"
expect dlopen-error 2 err "wsrun: cannot load plugin ./garbage.so: " -- "$W" -p ./garbage.so -n 1

export_fixtures
expect search-path 0 out "failat: finish status=0 calls=4" -- "$W" -p failat -n 4
expect no-descriptor 2 err "is not a wsrun plugin: it has no ws_plugin_descriptor symbol" -- "$W" -p nodesc -n 1
expect abi-major 2 err "plugin ABI major mismatch: expected 1, found 99" -- "$W" -p badabi -n 1
expect no-header 2 err "noheader.so: descriptor has no WS_PLUGIN_HEADER (abi_major, abi_minor and struct_size are 0): begin its initializer with WS_PLUGIN_HEADER" -- "$W" -p noheader -n 1
expect struct-size 2 err "descriptor struct_size" -- "$W" -p shortdesc -n 1
expect null-name 2 err "descriptor has no name" -- "$W" -p noname -n 1
expect null-run-one 2 err "descriptor has no run_one callback" -- "$W" -p norunone -n 1
expect misnamed 2 err "descriptor name 'othername' does not match the file name (expected 'misnamed')" -- "$W" -p misnamed -n 1
expect newer-minor-loads 0 none "" -- "$W" -p newer -n 3
# A fork-join plugin built against the frozen ABI 1.0 header still runs,
# its inline code (which keeps ctx's top itself) served by today's runtime.
expect abi10-help 0 out "built for plugin ABI 1.0" -- "$W" -p abi10 --help
for j in 1 2 3 4; do
    expect abi10-top-j$j 0 out "fib(24) = 46368" -- "$W" -p abi10 -j $j -o n=24 -o mode=top
    expect abi10-implicit-j$j 0 out "fib(22) = 17711" -- "$W" -p abi10 -j $j -o n=22 -o mode=implicit
done
# ... and plugins built against the frozen 1.1 and 1.2 headers (the _at
# calls and the plain calls).
for abi in 11 12; do
    expect abi$abi-help 0 out "built for plugin ABI ${abi:0:1}.${abi:1:1}" -- "$W" -p abi$abi --help
    for j in 1 2 3 4; do
        expect abi$abi-at-j$j 0 out "fib(24) = 46368" -- "$W" -p abi$abi -j $j -o n=24 -o mode=at
        expect abi$abi-plain-j$j 0 out "fib(22) = 17711" -- "$W" -p abi$abi -j $j -o n=22 -o mode=plain
    done
done
# ... and one written with the typed-task macros against the frozen 1.3
# header (a valued task and a void task with two arguments).
expect abi13-help 0 out "built for plugin ABI 1.3" -- "$W" -p abi13 --help
for j in 1 2 3 4; do
    expect abi13-fib-j$j 0 out "fib(24) = 46368" -- "$W" -p abi13 -j $j -o n=24 -o mode=fib
    expect abi13-tree-j$j 0 out "fib(22) = 17711" -- "$W" -p abi13 -j $j -o n=22 -o mode=tree
done
# Fork-join where it cannot work: refused with a message naming the plugin,
# then the crash report's status (128 + SIGABRT).
expect fork-in-init 134 err "forkmisuse: fork-join (ws_spawn) is only possible in run_one and its tasks, not in init or finish" -- "$W" -p forkmisuse -n 1 -o where=init
expect fork-too-deep 134 err "forkmisuse: fork-join nesting deeper than 262144 frames on worker 0 (wsrun --stack SIZE gives SIZE/256 frames)" -- "$W" -p forkmisuse -n 1 -o where=deep
# A spawn never synced is named at the index whose run_one returned with
# it (not a million indices later at the frame stack's end); the _at form
# in a plugin built with WS_CHECK_SPAWNS (unsyncedat), which must still
# give a correct plugin's results.
UNSYNCED="run_one returned at index 5 with 1 spawned task never synced (each ws_spawn or ws_spawn_at needs its ws_sync, or ws_pop and ws_join, before run_one returns)"
for j in 1 2; do
    expect fork-unsynced-j$j 134 err "forkmisuse: $UNSYNCED" -- "$W" -p forkmisuse -n 100 -o where=unsynced -j $j
    expect fork-unsynced-at-j$j 134 err "unsyncedat: $UNSYNCED" -- "$W" -p unsyncedat -n 100 -o where=unsynced_at -j $j
    expect fork-unsynced-index-j$j 134 err "forkmisuse: index 5 (worker " -- "$W" -p forkmisuse -n 100 -o where=unsynced -j $j
    expect fork-checked-fib-j$j 0 none "" -- "$W" -p unsyncedat -n 200 -o where=fib -j $j
    expect fork-plain-fib-j$j 0 none "" -- "$W" -p forkmisuse -n 200 -o where=fib -j $j
done
# In any build, an _at frame a thief was given is caught: index 5 waits
# until the other worker asks for work, then spawns and returns.
expect fork-unsynced-at-asked 134 err "forkmisuse: $UNSYNCED" -- "$W" -p forkmisuse -n 100 -o where=unsynced_at_asked -j 2
expect fork-plain-fib-j4 0 none "" -- "$W" -p forkmisuse -n 400 -o where=fib -j 4

# ------------------------------------------------------------ plugin help
expect plugin-help 0 out "opts 0.2 - test fixture: one option of each type" -- "$W" -p opts --help
expect plugin-help-table 0 out "gray|rgb|cmyk" -- "$W" -p opts -h
expect plugin-help-range 0 out "1..100" -- "$W" --help --plugin opts
expect plugin-help-ignores-o 0 out "options:" -- "$W" -p opts -o junk=1 --help
expect hello-help 0 out "greeting" -- "$W" -p hello --help

# ------------------------------------------------------------ -o
expect o-range 2 err "wsrun: option 'n': 0 is out of range 1..100" -- "$W" -p opts -n 0 -o n=0
expect o-int-junk 2 err "wsrun: option 'n': expected a whole number, got '5x'" -- "$W" -p opts -n 0 -o n=5x
expect o-double 2 err "wsrun: option 'ratio': expected a number, got 'abc'" -- "$W" -p opts -n 0 -o ratio=abc
expect o-bool 2 err "wsrun: option 'fast': expected true/false, yes/no, on/off or 1/0, got 'maybe'" -- "$W" -p opts -n 0 -o fast=maybe
expect o-enum 2 err "wsrun: option 'mode': expected one of gray|rgb|cmyk, got 'x'" -- "$W" -p opts -n 0 -o mode=x
expect o-unknown 2 err "wsrun: unknown option 'size' for plugin opts (valid: n, ratio, label, fast, mode)" -- "$W" -p opts -n 0 -o size=3
expect o-no-equals 2 err "wsrun: -o 'n': expected key=value" -- "$W" -p opts -n 0 -o n
expect o-no-value 2 err "wsrun: option 'n': missing value after '='" -- "$W" -p opts -n 0 -o n=
expect o-no-options 2 err "plugin failat" -- "$W" -p failat -n 0 -o nope=1
expect o-defaults 0 out "opts: status=0 n=10 ratio=0.5 label=(unset) fast=0 mode=0 given=00000" -- "$W" -p opts -n 0
expect o-values-last-wins 0 out "opts: status=0 n=7 ratio=0.25 label=a b fast=1 mode=2 given=11111" -- \
    "$W" -p opts -n 0 -o n=5 -o n=7 -o mode=cmyk --option fast=yes -o "label=a b" -o ratio=0.25

# ------------------------------------------------------------ running
expect init-fails 2 err "wsrun: initfail: init failed: no such widget 'sprocket'" -- "$W" -p initfail -n 5
lacks out "finish called"
expect count-required 2 err "wsrun: failat: --count is required" -- "$W" -p failat
expect count-required-finish 2 out "failat: finish status=1 calls=0" -- "$W" -p failat
expect set-count 0 out "failat: finish status=0 calls=7 count=7" -- "$W" -p failat -o set_count=7
expect count-beats-set-count 0 out "calls=3 count=3" -- "$W" -p failat -n 3 -o set_count=7
expect count-zero 0 out "failat: finish status=0 calls=0 count=0" -- "$W" -p failat -n 0
expect run-one-fails 1 err "deliberate failure at index 37" -- "$W" -p failat -n 100 -o at=37 -j 2
expect run-one-fails-summary 1 err "wsrun: 1 of 100 tasks failed" -- "$W" -p failat -n 100 -o at=37 -j 2
expect run-one-fails-finish 1 out "failat: finish status=1" -- "$W" -p failat -n 100 -o at=37 -j 2
expect keep-going 1 err "wsrun: 10 of 100 tasks failed" -- "$W" -p failat -n 100 -o every=10 --keep-going -j 2
expect keep-going-runs-all 1 out "calls=100" -- "$W" -p failat -n 100 -o every=10 --keep-going -j 2
expect retries 1 out "calls=12" -- "$W" -p failat -n 10 -o at=5 --retries 2 --keep-going -j 1
expect finish-fails 1 err "wsrun: failat: finish failed: deliberate finish failure" -- "$W" -p failat -n 3 -o finish_fail=on
expect stats 0 err "wsrun stats: plugin failat, 1000 indices (1000 ok, 0 failed), 2 workers" -- "$W" -p failat -n 1000 -j 2 --stats
expect stats-table 0 err "steals/tried" -- "$W" -p failat -n 1000 -j 2 --stats
expect progress-forced 0 err "/40 (" -- "$W" -p failat -n 40 -o sleep_us=10000 -j 2 --progress
expect progress-shows-busy-workers 0 err "workers busy" -- "$W" -p failat -n 40 -o sleep_us=10000 -j 2 --progress
expect progress-off-when-not-tty 0 none "" -- "$W" -p failat -n 40 -o sleep_us=2000 -j 2
lacks err "ETA"
unset WSRUN_PLUGIN_PATH
expect quiet 0 none "" -- "$W" -p hello -n 10 -o every=1 -q
[ -s "$ERR" ] && { passed=$((passed - 1)); bad "--quiet printed something"; }
expect hello-logs 0 err "wsrun: hello: hello from index 4 on worker" -- "$W" -p hello -n 10 -o every=2 -j 1

# Interrupt: SIGTERM mid-run stops handing out indices; finish still runs.
# The signal goes once an index runs (the fixture's ready file) and the
# indices wait for the stop (hold): the outcome never depends on a clock.
case_name=interrupt
rm -f "$SCRATCH/ready"
cmd=("$W" -p "$FIXTURES/failat.so" -n 100000 -o "ready=$SCRATCH/ready" -o hold=true -j 2)
"${cmd[@]}" >"$OUT" 2>"$ERR" </dev/null &
pid=$!
while [ ! -e "$SCRATCH/ready" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" -ne 143 ]; then bad "exit status $rc, expected 143 (128 + SIGTERM)"
elif ! grep -qF "interrupted by SIGTERM" "$ERR"; then bad "no interrupt message"
elif ! grep -qF "failat: finish status=1" "$OUT"; then bad "finish not called after interrupt"
else passed=$((passed + 1)); fi

# The README's headline command, when the noise plugin is built.
if [ -f "$BUILD/plugins/noise.so" ]; then
    mkdir -p "$SCRATCH/noise" && cd "$SCRATCH/noise" || exit 2
    expect noise-headline 0 none "" -- "$W" --plugin noise.so --count 20
    cd "$SCRATCH" || exit 2
fi

cli_finish

#!/usr/bin/env bash
# reports.sh - what wsrun reports about a run, through the command line:
# --trace (valid JSON per python3 -m json.tool; per worker, spans never
# partly overlap; the index ranges cover every index exactly once: checked
# by tests/py/check_trace.py), --stats-json (valid JSON, totals equal to
# --count and to the sum of the workers), their behaviour on bad paths and
# failed runs, and --list-plugins.  Run from the repository root; needs
# $WSRUN_BUILD with plugins and test-plugins built.  Writes only into a
# fresh folder under /tmp, which it removes.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start reports reports
ROOT=$(pwd)
[ -f "$ROOT/tests/py/check_trace.py" ] || { echo "reports: run me from the repository root"; exit 2; }
[ -f "$FIXTURES/failat.so" ] || { echo "reports: fixture plugins missing in $FIXTURES"; exit 2; }
cd "$SCRATCH" || exit 2
PY=/usr/bin/python3

valid_json() { $PY -m json.tool "$1" >/dev/null 2>&1; }
trace_ok() { $PY "$ROOT/tests/py/check_trace.py" "$@"; }
# stats_ok FILE COUNT JOBS: totals equal the count and the workers' sums.
stats_ok() {
    $PY - "$@" <<'PYEOF'
import json, sys
path, count, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = json.load(open(path))
t, ws = d["total"], d["workers"]
assert d["count"] == count and d["jobs"] == jobs and len(ws) == jobs, (d["count"], d["jobs"])
for k in t:
    assert t[k] == sum(w[k] for w in ws), k
assert t["indices"] == count == d["indices_ok"], (t["indices"], d["indices_ok"], count)
assert d["indices_failed"] == 0 and d["stopped_early"] is False
assert t["busy_ns"] > 0 and d["wall_ns"] > 0 and d["indices_per_s"] > 0
PYEOF
}

# ------------------------------------------------------------ --trace
mkdir noise && cd noise || exit 2
"$W" -p noise -n 600 -j 3 -q --trace t.json --stats-json s.json
check "noise run with reports exits 0" test $? -eq 0
check "--trace is valid JSON (json.tool)" valid_json t.json
check "--trace: spans nest, ranges cover 0..599 once, 3 tracks" trace_ok t.json 600 3
check "--stats-json is valid JSON (json.tool)" valid_json s.json
check "--stats-json totals equal --count 600 and the workers' sums" stats_ok s.json 600 3
check "no temporary left beside the reports" test "$(ls -A | grep -c '\.tmp\.')" -eq 0
cd .. || exit 2

# --shard 1/3 of 1000: indices 334..666 (the first part holds the extra one).
"$W" -p noise -n 1000 --shard 1/3 -j 2 -q --trace shard.json --stats-json shard-stats.json
check "a --shard run with reports exits 0" test $? -eq 0
check "--shard trace covers exactly its part 334..666" trace_ok shard.json 334:667 2
check "--shard stats name the part" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["count"], d["begin"], d["end"]) == (1000, 334, 667), d
assert d["total"]["indices"] == d["indices_ok"] == 333, d' shard-stats.json

"$W" -p fib -o n=30 -j 3 --trace fib.json >fib.out
check "fib run with --trace prints its result" grep -qx "fib(30) = 832040" fib.out
check "fork-join trace: stolen tasks nest inside ranges, 1 index" trace_ok fib.json 1 3

"$W" -p spin -n 2000 -j 2 --trace spin.json --stats-json spin-stats.json >/dev/null 2>&1
check "spin trace covers 2000 indices" trace_ok spin.json 2000 2
check "spin stats totals" stats_ok spin-stats.json 2000 2

# --stats-json - writes to stdout; --quiet keeps stderr empty.
# (The JSON follows what the plugin itself prints: "empty = 100000 indices".)
"$W" -p empty -n 100000 -j 2 -q --stats-json - >stdout.txt 2>stderr.txt
check "--stats-json - follows the plugin's own output" test "$(head -1 stdout.txt)" = "empty = 100000 indices"
sed -n '/^{/,$p' stdout.txt >stdout.json
check "--stats-json - on stdout is the JSON" stats_ok stdout.json 100000 2
check "--quiet with reports prints nothing on stderr" test ! -s stderr.txt

# ------------------------------------------------------------ errors
export WSRUN_PLUGIN_PATH=$FIXTURES
"$W" -p failat -n 5 --trace "$SCRATCH/nodir/t.json" >out.txt 2>err.txt
check "--trace into a missing folder exits 2" test $? -eq 2
check "... naming the option and the path" grep -qF "wsrun: --trace: cannot create $SCRATCH/nodir/t.json" err.txt
check "... before init (finish not called)" test ! -s out.txt
"$W" -p failat -n 5 --stats-json /proc/nope.json >out.txt 2>err.txt
check "--stats-json unwritable exits 2" test $? -eq 2
check "... naming the option" grep -qF "wsrun: --stats-json: cannot create /proc/nope.json" err.txt

"$W" -p failat -n 1000 -o at=500 -j 2 --trace failed.json --stats-json failed-stats.json >/dev/null 2>&1
check "a failing run still exits 1" test $? -eq 1
check "a failing run's trace is complete JSON" valid_json failed.json
check "a failing run's stats record the failure" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["indices_failed"] == 1 and d["total"]["failed"] == 1, d' failed-stats.json

"$W" -p initfail -n 5 --trace never.json >/dev/null 2>&1
check "init failure exits 2 and leaves no trace" test $? -eq 2 -a ! -e never.json
check "... and no temporary" test "$(ls -A | grep -c '\.tmp\.')" -eq 0
"$W" -p crash -n 100 -o at=50 -j 2 --trace crashed.json --stats-json crashed-stats.json >/dev/null 2>&1
check "a crashing run exits 139" test $? -eq 139
check "... leaving neither report nor temporary" test -z "$(ls -A | grep crashed)"
"$W" -p failat --trace nocount.json >/dev/null 2>&1
check "missing --count leaves no trace" test ! -e nocount.json
unset WSRUN_PLUGIN_PATH

# ------------------------------------------------------------ --list-plugins
"$W" --list-plugins >list.txt 2>list.err
check "--list-plugins exits 0" test $? -eq 0
desc=$("$W" -p noise --help | sed -n '1s/^noise [^ ]* - //p')
check "--list-plugins: noise's description known ($desc)" test -n "$desc"
check "--list-plugins lists noise with its version and description" \
    grep -qE "^  noise +1\.0 +$(printf '%s' "$desc" | sed 's/[][\.*^$()|+?{}]/\\&/g')\$" list.txt
check "--list-plugins starts with the build's plugin folder" test "$(head -1 list.txt)" = "$BUILD/plugins:"
for p in "$BUILD"/plugins/*.so; do
    name=$(basename "$p" .so)
    grep -q "^  $name " list.txt || bad "--list-plugins misses $name"
done
ok
WSRUN_PLUGIN_PATH=$FIXTURES "$W" --list-plugins >list.txt 2>list.err
check "--list-plugins over fixtures exits 0" test $? -eq 0
check "a plugin whose init aborts is listed (init never called)" grep -q "^  initabort .*every callback aborts" list.txt
check "a broken file is skipped with its reason" grep -q "^wsrun: skipping plugin .*/badabi.so: plugin ABI major mismatch" list.err
check "fixtures are listed before the build's plugins" test "$(head -1 list.txt)" = "$FIXTURES:"

cli_finish

#!/usr/bin/env bash
# python.sh - the python plugin (issue 25): the seed's Example 1 pattern
# (255*np.random.rand in the function) writes distinct images with the
# same bytes for -j1 and -j2; the per-index random state is the one
# docs/python.md derives; -o args, -o init, wsrun.rng; an exception names
# its index and file:line; a script that does not load exits 2; --journal
# + a killed run + --resume gives the same files, and an edited script is
# refused; Ctrl-C interrupts a running index or -o init (exit 130, no
# traceback, --resume finishes), a failure stop does not (no
# KeyboardInterrupt in the other worker process's -o init or index);
# wsrun-mpi with 2 ranks writes the same images.  Writes only
# into its scratch folder.  Needs /usr/bin/python3
# with numpy (TEST_PKGS); images are written with a few lines of zlib, so
# no OpenCV or PIL is needed.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start python python
P=$BUILD/plugins/python.so
[ -f "$P" ] || { echo "python: $P not built"; exit 2; }
# Under ASan/TSan (make test-asan, test-tsan-cli) the uninstrumented
# interpreter and numpy only add noise: the issue exempts Python tests.
if grep -qaE '__(a|t)san_init' "$W"; then # gcc's or clang's sanitizers
    echo "python: skipped in a sanitizer build"
    cli_finish
    exit
fi
PY=/usr/bin/python3
cd "$SCRATCH" || exit 2

# The seed's function, unchanged but for the writer (no cv2 in tests).
cat >ex1.py <<'EOF'
import struct
import zlib
from functools import partial

import numpy as np


def imwrite(filename, arr):
    a = arr.astype(np.uint8)
    raw = b"".join(b"\0" + row.tobytes() for row in a)
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    head = struct.pack(">IIBBBBB", a.shape[1], a.shape[0], 8, 0, 0, 0, 0)
    with open(filename, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head)
                + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def write_one_file(size_x, size_y, name_prefix, index):
    arr = 255*np.random.rand(size_x, size_y)
    filename = name_prefix + str(index) + '.png'
    print("writing file ", filename)
    imwrite(filename, arr)
    return "ignored"


wrapper = partial(write_one_file, 100, 100, 'image_')

if __name__ == "__main__":
    open("main-ran", "w").close()
EOF

N=200
for j in 1 2; do
    mkdir -p "j$j"
    (cd "j$j" && "$W" -p "$P" -o script=../ex1.py -o function=wrapper -n $N -j $j \
        >out.txt 2>err.txt)
    rc=$?
    check "example 1 -j$j: status $rc, $(head -2 "j$j/err.txt")" [ $rc -eq 0 ]
    check "example 1 -j$j: $N images" [ "$(ls "j$j" | grep -c '^image_.*\.png$')" -eq $N ]
    check "example 1 -j$j: $N distinct images" \
        [ "$(cd "j$j" && cat image_*.png | wc -c)" -gt 0 -a \
          "$(cd "j$j" && md5sum image_*.png | cut -d' ' -f1 | sort -u | wc -l)" -eq $N ]
    # print(): whole lines, one per index, none torn.
    check "example 1 -j$j: one whole printed line per index" \
        [ "$(grep -cE '^writing file  image_[0-9]+\.png$' "j$j/out.txt")" -eq $N -a \
          "$(wc -l <"j$j/out.txt")" -eq $N ]
    check "example 1 -j$j: the __main__ block did not run" [ ! -e "j$j/main-ran" ]
done
check "example 1: the same bytes for -j1 and -j2" \
    cmp -s <(cd j1 && md5sum image_*.png) <(cd j2 && md5sum image_*.png)

# The per-index state is the documented derivation (docs/python.md), for
# Python's random and numpy's global RandomState; wsrun.rng and wsrun.args.
cat >state.py <<'EOF'
import random
import sys

import numpy as np

import wsrun

def setup():
    with open("inits.txt", "a") as f:
        f.write("init\n")


def record(index):
    g = wsrun.rng(index)
    with open("state_%d.txt" % index, "w") as f:
        f.write("%r %r %r %r %r\n" % (random.random(), float(np.random.rand()),
                                     float(np.random.standard_normal()),
                                     int(g.integers(1 << 62)), sys.argv))
EOF
cat >expect.py <<'EOF'
# The derivation of docs/python.md, written out again independently.
import random, sys
import numpy as np
M = (1 << 64) - 1
def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)
seed, n, argv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
bad = 0
for i in range(n):
    key = mix64(seed ^ mix64((i + 0x632BE59BD9B4E019) & M))
    out = [mix64((key + k * 0x9E3779B97F4A7C15) & M) for k in range(1, 627)]
    words = [h for v in out[:624] for h in (v & 0xFFFFFFFF, v >> 32)]
    random.setstate((3, tuple(words[:624]) + (624,), None))
    np.random.set_state(("MT19937", np.array(words[624:], dtype=np.uint32), 624, 0, 0.0))
    g = np.random.default_rng((out[624] << 64) | out[625])
    want = "%r %r %r %r %r\n" % (random.random(), float(np.random.rand()),
                                float(np.random.standard_normal()),
                                int(g.integers(1 << 62)), argv)
    got = open("state_%d.txt" % i).read()
    if got != want:
        bad += 1
        print("index %d: got %s want %s" % (i, got.strip(), want.strip()))
sys.exit(1 if bad else 0)
EOF
mkdir st && cd st || exit 2
"$W" -p "$P" -o script=../state.py -o function=record -o init=setup -o args="a 'b c'" \
    -n 40 -j 2 --seed 7 2>err.txt
rc=$?
check "state: status $rc, $(head -2 err.txt)" [ $rc -eq 0 ]
check "state: -o init ran once per worker" [ "$(grep -c init inits.txt)" -eq 2 ]
out=$("$PY" ../expect.py 7 40 ../state.py a "b c" 2>&1)
check "state: the documented derivation: $(echo "$out" | head -3)" [ -z "$out" ]
cd .. || exit 2

# reseed=off: numpy draws from its own (entropy) seed, not the index's.
cat >raw.py <<'EOF'
import numpy as np
def f(i):
    open("raw_%d.txt" % i, "w").write(repr(float(np.random.rand())))
EOF
mkdir raw && (cd raw && "$W" -p "$P" -o script=../raw.py -o function=f -n 2 -o reseed=off &&
    "$W" -p "$P" -o script=../raw.py -o function=f -n 2 -o reseed=on)
check "reseed=on gives index 0 and 1 different values" \
    [ "$(cat raw/raw_0.txt)" != "$(cat raw/raw_1.txt)" ]

# An exception at index 13: the index, the type, the text, file:line;
# one traceback.
cat >fail13.py <<'EOF'
def f(i):
    if i == 13:
        table = {}
        return table["no such key"]
EOF
"$W" -p "$P" -o script=fail13.py -o function=f -n 40 -j 2 --keep-going >out.txt 2>err.txt
rc=$?
check "index 13: status $rc is 1" [ $rc -eq 1 ]
check "index 13: the one-line message: $(grep 'index 13' err.txt)" \
    grep -qE "^wsrun: python: index 13 failed.*: KeyError: 'no such key' at fail13.py:4\$" err.txt
check "index 13: one traceback" [ "$(grep -c '^Traceback' err.txt)" -eq 1 ]
check "index 13: only index 13 failed" grep -q "1 of 40 tasks failed" err.txt

# Scripts that do not load, and missing functions: exit 2, file and line.
load_fails() { # NAME SCRIPT-TEXT FUNCTION PATTERN
    printf '%s\n' "$2" >"$1.py"
    "$W" -p "$P" -o script="$1.py" -o function="$3" -n 3 >out.txt 2>err.txt
    local rc=$?
    if [ $rc -eq 2 ] && grep -qE "$4" err.txt; then ok
    else bad "$1: status $rc, stderr: $(cat err.txt)"; fi
}
load_fails syntax $'def f(i):\n    x = (\n' f "python: init failed: SyntaxError: .* at syntax.py:2\$"
load_fails nofunc $'def f(i):\n    pass\n' g "python: init failed: nofunc.py: no attribute 'g' \\(-o function=g\\)\$"
load_fails nomodule $'import no_such_module_here\n' f \
    "ModuleNotFoundError: No module named 'no_such_module_here' at nomodule.py:1; interpreter /usr/bin/python3"
mkdir taken
load_fails taken/types $'def f(i):\n    pass\n' f \
    "python: init failed: taken/types.py: its module name 'types' is taken by /usr/lib/python3.11/types.py; rename the script\$"
"$W" -p "$P" -o script=missing.py -o function=f -n 3 2>err.txt
rc=$?
check "missing script: status $rc, $(cat err.txt)" \
    [ $rc -eq 2 -a "$(grep -c 'cannot read script missing.py: No such file' err.txt)" -eq 1 ]

# --journal, a run killed (SIGKILL, by the script itself at index 25),
# --resume: the same files as a run that was never stopped; an edited
# script is refused on --resume.
cat >kill.py <<'EOF'
import os
import numpy as np
def f(i):
    if i == 25 and os.path.exists("kill-me"):
        os.kill(os.getpid(), 9)
    np.save("a_%d.npy" % i, np.random.rand(4))
EOF
mkdir full resumed
(cd full && "$W" -p "$P" -o script=../kill.py -o function=f -n 60 -j 2)
cd resumed || exit 2
touch kill-me
"$W" -p "$P" -o script=../kill.py -o function=f -n 60 -j 2 --journal j.journal 2>err.txt
rc=$?
# In threads the SIGKILL ends wsrun (137); in worker processes (--isolate,
# the plugin's default where wsrun has it) it fails index 25 only (1).
check "journal: the killed run stopped (status $rc, $(head -3 err.txt))" \
    [ $rc -eq 137 -o \( $rc -eq 1 -a "$(grep -c 'index 25 failed' err.txt)" -eq 1 \) ]
rm kill-me
"$W" -p "$P" -o script=../kill.py -o function=f -n 60 -j 2 --journal j.journal --resume 2>err.txt
rc=$?
check "journal: --resume status $rc, $(cat err.txt)" [ $rc -eq 0 ]
check "journal: --resume skipped what was done" grep -q "already done" err.txt
cd .. || exit 2
check "journal: the resumed files equal a whole run's" \
    cmp -s <(cd full && md5sum a_*.npy) <(cd resumed && md5sum a_*.npy | grep -v journal)
echo "# edited" >>kill.py
(cd resumed && "$W" -p "$P" -o script=../kill.py -o function=f -n 60 --journal j.journal --resume \
    2>err.txt)
rc=$?
check "journal: an edited script is refused on --resume (status $rc)" \
    [ $rc -eq 2 -a "$(grep -c 'script-xxh64=' resumed/err.txt)" -eq 1 ]

# Ctrl-C (SIGINT to wsrun alone) while an index runs that would never end
# on its own: it spins in Python, or blocks opening a FIFO nobody writes.
# The index gets KeyboardInterrupt at once (in its worker process, or in
# wsrun's own thread with --isolate=off): exit 130, only wsrun's two
# interrupt lines (no traceback, no "index N failed"), no process left, and
# --resume of the journal runs that index and whatever was not run.  The
# first index run on a Python main thread takes the "block" file and
# blocks: with --isolate=off -j2 an index on worker 1's thread would not
# be interrupted (CPython runs signal handlers on the main thread only;
# docs/python.md says so), and which indices worker 1 steals is not fixed.
cat >block.py <<'EOF'
import os
import threading
def f(i):
    if threading.current_thread() is threading.main_thread() and claim():
        open("started.tmp", "w").write("%d\n" % i)
        os.rename("started.tmp", "started")
        if os.path.exists("spin"):
            while True:
                pass
        with open("never") as fifo:  # blocks in open(): no writer, ever
            fifo.read()
    open("out_%d" % i, "w").close()
def claim():
    try:
        os.rename("block", "blocked")  # once: one index blocks
        return True
    except FileNotFoundError:
        return False
EOF
# wait_for COMMAND...: until it succeeds (a hang guard of ~60 s, not a timing).
wait_for() { local k; for k in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }
started_or_gone() { [ -e "$d/started" ] || ! kill -0 "$pid" 2>/dev/null; }
NI=40
for how in spin fifo; do
    for mode in "-j1" "-j2" "-j1 --isolate=off" "-j2 --isolate=off"; do
        d="int-$how-${mode// /}"
        mkdir "$d" && mkfifo "$d/never" && touch "$d/block" || exit 2
        if [ $how = spin ]; then touch "$d/spin"; fi
        # shellcheck disable=SC2086 # $mode is one or two words
        (cd "$d" && exec "$W" -p "$P" -o script="$SCRATCH/block.py" -o function=f -n $NI $mode \
            --journal j.journal >out.txt 2>err.txt) &
        pid=$!
        wait_for started_or_gone
        kill -INT $pid
        wait $pid
        rc=$?
        lines=$(wc -l <"$d/err.txt")
        at=$(cat "$d/started" 2>/dev/null)
        check "SIGINT $how $mode: status $rc is 130 (index ${at:-none} blocked); stderr: $(cat "$d/err.txt")" \
            [ $rc -eq 130 -a -n "$at" ]
        check "SIGINT $how $mode: two lines ($lines), stopping then interrupted" \
            [ "$lines" -eq 2 -a \
              "$(grep -c '^wsrun: SIGINT: stopping after the running tasks' "$d/err.txt")" -eq 1 -a \
              "$(grep -cE "^wsrun: python: interrupted by SIGINT: [0-9]+ of $NI indices done \(journaled" \
                 "$d/err.txt")" -eq 1 ]
        check "SIGINT $how $mode: no Traceback, KeyboardInterrupt or failure text" \
            [ "$(cat "$d/err.txt" "$d/out.txt" | grep -ciE 'Traceback|KeyboardInterrupt|failed')" -eq 0 ]
        check "SIGINT $how $mode: index $at not done" [ ! -e "$d/out_$at" ]
        check "SIGINT $how $mode: no process left" \
            [ -z "$(pgrep -f "script=$SCRATCH/block.py")" ]
        check "SIGINT $how $mode: only the journal and the script's files" \
            [ -z "$(ls -A "$d" | grep -vxE 'out_[0-9]+|out.txt|err.txt|j.journal|never|blocked|spin|started')" ]
        # shellcheck disable=SC2086
        (cd "$d" && "$W" -p "$P" -o script="$SCRATCH/block.py" -o function=f -n $NI $mode \
            --journal j.journal --resume >out.txt 2>err.txt)
        rc=$?
        check "SIGINT $how $mode: --resume status $rc, $(head -2 "$d/err.txt")" [ $rc -eq 0 ]
        check "SIGINT $how $mode: --resume ran index $at and the rest: all $NI files" \
            [ "$(ls "$d" | grep -c '^out_[0-9]*$')" -eq $NI -a -e "$d/out_$at" ]
    done
done

# The same for -o init (Pool's initializer) blocked in open() of a FIFO:
# wsrun's stop reaches a worker process still in worker_init.
cat >initblock.py <<'EOF'
import os
def setup():
    tmp = "started.%d" % os.getpid()
    open(tmp, "w").write("init\n")
    os.rename(tmp, "started")
    with open("never") as fifo:  # every worker blocks here
        fifo.read()
def f(i):
    open("out_%d" % i, "w").close()
EOF
for mode in "-j1" "-j2" "-j1 --isolate=off"; do
    d="init-${mode// /}"
    mkdir "$d" && mkfifo "$d/never" || exit 2
    # shellcheck disable=SC2086
    (cd "$d" && exec "$W" -p "$P" -o script="$SCRATCH/initblock.py" -o function=f -o init=setup \
        -n $NI $mode >out.txt 2>err.txt) &
    pid=$!
    wait_for started_or_gone
    kill -INT $pid
    wait $pid
    rc=$?
    check "SIGINT in -o init $mode: status $rc is 130, two lines, no index run; stderr: $(cat "$d/err.txt")" \
        [ $rc -eq 130 -a "$(wc -l <"$d/err.txt")" -eq 2 -a \
          "$(grep -c "^wsrun: python: interrupted by SIGINT: 0 of $NI indices done" "$d/err.txt")" -eq 1 -a \
          "$(ls "$d" | grep -c '^out_')" -eq 0 ]
    check "SIGINT in -o init $mode: no process left" \
        [ -z "$(pgrep -f "script=$SCRATCH/initblock.py")" ]
done

# A failure stop is not an interrupt: under --isolate wsrun's stop request
# (SIGUSR2 in a worker process, docs/design.md) reaches the other worker
# process while its -o init or index runs, and ws_stopping becomes true
# there, but Python must not raise KeyboardInterrupt in it (only Ctrl-C
# does).  That process holds SIGUSR2 blocked until it sees it pending (so
# the stop is known to have come while Python runs), lets it in, runs on
# and says so in "b_done".  Case init: one process's -o init waits until
# the other's is ready, then raises (a worker_init failure).  Case index:
# the first process's indices run until the other process's index B is
# ready, then one raises (an index failure).  The other process gets an
# index only by stealing, which worker 0 allows between two of its runs of
# indices: so the count is 2^62, which worker 0 cannot finish on its own
# (a run of indices is at most 2^20 of them), and the steal is certain
# to come, whenever the scheduler lets worker 1 ask; the failure is
# raised only once B is ready.  No race: a count that worker 0 could run
# through before the steal would end the run without the failure.
cat >fstop.py <<'EOF'
import os
import signal
import time
def claim(name):
    try:
        os.rename(name, name + ".taken")  # once: one process takes the role
        return True
    except FileNotFoundError:
        return False
def wait_until(name):
    for _ in range(6000):  # a hang guard of ~60 s, not a timing
        if os.path.exists(name):
            return
        time.sleep(0.01)
def wait_for_stop():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    open("b_ready.tmp", "w").close()
    os.rename("b_ready.tmp", "b_ready")
    for _ in range(6000):  # as in wait_until
        if signal.SIGUSR2 in signal.sigpending():
            break
        time.sleep(0.01)
    else:
        open("b_nosignal", "w").close()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR2})
    n = 0
    for k in range(200000):  # bytecodes: a KeyboardInterrupt would come here
        n += k
    open("b_done", "w").close()
def setup():
    if claim("b"):
        wait_for_stop()
    else:
        wait_until("b_ready")
        raise ValueError("setup fails on purpose")
first = None
since = None
def f(i):
    global first, since
    if first is None:  # the first process to run an index, by a link
        mine = "pid.%d" % os.getpid()
        open(mine, "w").write(mine)
        try:
            os.link(mine, "first_pid")
        except FileExistsError:
            pass
        first = open("first_pid").read() == mine
    if first:
        if os.path.exists("b_ready"):
            raise ValueError("index %d fails on purpose" % i)
        if since is None:
            since = time.monotonic()
        elif time.monotonic() - since > 60:  # a hang guard, not a timing
            raise RuntimeError("no index B in the other process after 60 s")
    elif claim("b"):
        wait_for_stop()
EOF
for how in init index; do
    d="fstop-$how"
    mkdir "$d" && touch "$d/b" || exit 2
    if [ $how = init ]; then
        (cd "$d" && "$W" -p "$P" -o script="$SCRATCH/fstop.py" -o function=f -o init=setup \
            -n 40 -j2 >out.txt 2>err.txt)
        rc=$?
        what="worker_init failed on worker [01]: .*ValueError: setup fails on purpose"
    else
        (cd "$d" && "$W" -p "$P" -o script="$SCRATCH/fstop.py" -o function=f \
            -n 4611686018427387904 -j2 >out.txt 2>err.txt)
        rc=$?
        what="index [0-9]+ failed \(worker [01]\): .*ValueError: index [0-9]+ fails on purpose"
    fi
    check "failure stop in $how: status $rc is 1, the stop came while the other process ran; stderr: $(head -3 "$d/err.txt")" \
        [ $rc -eq 1 -a -e "$d/b_ready" -a ! -e "$d/b_nosignal" ]
    check "failure stop in $how: one failure, no KeyboardInterrupt" \
        [ "$(grep -cE "$what" "$d/err.txt")" -eq 1 -a \
          "$(grep -cE 'failed \(worker|worker_init failed' "$d/err.txt")" -eq 1 -a \
          "$(grep -ciE 'KeyboardInterrupt|interrupted' "$d/err.txt")" -eq 0 ]
    check "failure stop in $how: the stopped process ran on to its end" [ -e "$d/b_done" ]
done

# wsrun-mpi, 2 ranks, -j1 each: the same images as one wsrun.
if [ -x "$BUILD/wsrun-mpi" ] && command -v mpirun >/dev/null; then
    mkdir mpi mpitmp
    (cd mpi && timeout 300 mpirun --allow-run-as-root --oversubscribe \
        --mca orte_tmpdir_base "$SCRATCH/mpitmp" -n 2 "$BUILD/wsrun-mpi" -p "$P" \
        -o script=../ex1.py -o function=wrapper -n $N -j 1 >out.txt 2>err.txt)
    rc=$?
    check "mpi: status $rc, $(head -2 mpi/err.txt)" [ $rc -eq 0 ]
    check "mpi: the same images as wsrun -j1" \
        cmp -s <(cd j1 && md5sum image_*.png) <(cd mpi && md5sum image_*.png)
else
    echo "python: SKIP mpi: $BUILD/wsrun-mpi or mpirun missing (make mpi-build; openmpi-bin)"
fi

# VIRTUAL_ENV: a virtualenv made from /usr/bin/python3 is the interpreter.
if "$PY" -m venv --without-pip --system-site-packages venv 2>/dev/null; then
    printf 'import sys\ndef f(i):\n    print(sys.prefix)\n' >prefix.py
    out=$(VIRTUAL_ENV=$SCRATCH/venv "$W" -p "$P" -o script=prefix.py -o function=f -n 1 2>&1)
    check "VIRTUAL_ENV: sys.prefix is the venv's: $out" [ "$out" = "$SCRATCH/venv" ]
else
    echo "python: no venv module (python3-venv); VIRTUAL_ENV case skipped"
fi

cli_finish

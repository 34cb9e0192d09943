#!/usr/bin/env bash
# bench/readfill.sh - the read and fill benchmark (issue 4), runnable alone
# or from bench/run.sh: whole-process times with hyperfine of
#   read  -j1, -jN   vs  bench/peers/read_serial (serial C loop, libpng)
#   fill  -j1, -jN   vs  bench/peers/fill_omp (hand-written OpenMP loop)
#                    and bench/peers/seed_example3.py (the seed's Pool.map)
# on COUNT noise images, then fill -o source=noise into a FILL_MIB array
# against a single-threaded memset of the same size, all in the same run.
# Outputs are checked first (read's total checksum equals read_serial's,
# fill -j1, fill -jN and fill_omp arrays are byte-identical, the Python
# array has the same sum), and a mismatch fails the script (exit 1).
#
# Must never write outside one temporary folder (removed at exit) and
# $BUILD/bench/readfill (peers, hyperfine JSON, summary.txt).
#
# env: BUILD (default build), READFILL_COUNT (2000), READFILL_RUNS (10),
#      READFILL_FILL_MIB (1024), READFILL_JOBS (nproc), TMPDIR,
#      READFILL_RT=1: run the 2000-image timings under SCHED_FIFO (chrt -f
#      10, root only) so other work on a shared machine cannot preempt them;
#      each run is short, and the kernel keeps 5% of the CPU for the rest.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
COUNT=${READFILL_COUNT:-2000}
RUNS=${READFILL_RUNS:-10}
FILL_MIB=${READFILL_FILL_MIB:-1024}
JN=${READFILL_JOBS:-$(nproc)}
WSRUN=$ROOT/$BUILD/wsrun
OUT=$ROOT/$BUILD/bench/readfill
PY=/usr/bin/python3 # Debian's, which owns python3-numpy and python3-opencv

say() { printf '%s\n' "$*" >&2; }
die() { say "readfill: $*"; exit 2; }

[ -x "$WSRUN" ] || die "$WSRUN not found: run 'make BUILD=$BUILD all' first"
command -v hyperfine >/dev/null || die "hyperfine not installed (apt-get install hyperfine)"
mkdir -p "$OUT" || die "cannot create $OUT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsrun-readfill.XXXXXX") || die "cannot make a temporary folder"
trap 'rm -rf "$TMP"' EXIT

# ------------------------------------------------------------ peers
PNG_CFLAGS=$(pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS="$(pkg-config --libs libpng 2>/dev/null || echo -lpng) -lz"
for n in read_serial fill_omp memset_bench; do
    omp=""
    grep -q 'pragma omp' "bench/peers/$n.c" && omp=-fopenmp
    gcc -std=c11 -D_GNU_SOURCE -O2 -g -pthread $omp -Wall -Wextra -Iinclude -Itasks $PNG_CFLAGS \
        "bench/peers/$n.c" -o "$OUT/$n" $PNG_LIBS -lm || die "cannot build bench/peers/$n.c"
done

# ------------------------------------------------------------ inputs and checks
IMG=$TMP/img
mkdir -p "$IMG"
"$WSRUN" --plugin noise --count "$COUNT" -q -o "prefix=$IMG/image_" || die "noise failed"
PATTERN=$IMG/image_%d.png
FAILED=0
check() { # MESSAGE CONDITION...
    local msg=$1
    shift
    if "$@"; then say "check ok: $msg"; else say "CHECK FAILED: $msg"; FAILED=1; fi
}

# The CSV manifest has no total row; read prints the total on stderr.
"$WSRUN" --plugin read --no-progress -j1 -o "input=$PATTERN" -o "output=$TMP/m1.csv" \
    2>"$TMP/m1.log" || FAILED=1
"$WSRUN" --plugin read -q -j"$JN" -o "input=$PATTERN" -o "output=$TMP/mn.csv" || FAILED=1
want=$(sed -n 's/^wsrun: read: manifest total: [0-9]* files, //p' "$TMP/m1.log")
got=$("$OUT/read_serial" "$PATTERN" "$COUNT" | sed 's/^[0-9]* files, //')
check "read -j1 and -j$JN manifests identical" cmp -s "$TMP/m1.csv" "$TMP/mn.csv"
check "read total ($want) equals read_serial ($got)" [ "$want" = "$got" ]

"$WSRUN" --plugin fill -q -j1 -o "input=$PATTERN" -o "output=$TMP/f1.npy" || FAILED=1
"$WSRUN" --plugin fill -q -j"$JN" -o "input=$PATTERN" -o "output=$TMP/fn.npy" || FAILED=1
OMP_NUM_THREADS=$JN "$OUT/fill_omp" "$PATTERN" "$COUNT" "$TMP/fo.npy" || FAILED=1
check "fill -j1, -j$JN and fill_omp arrays identical" \
    sh -c "cmp -s '$TMP/f1.npy' '$TMP/fn.npy' && cmp -s '$TMP/f1.npy' '$TMP/fo.npy'"
py_sum=$(cd "$IMG" && $PY "$ROOT/bench/peers/seed_example3.py" . | sed -n 's/.*sum //p')
npy_sum=$($PY -c "import numpy as n; print(int(n.load('$TMP/f1.npy').sum(dtype=n.uint64)))")
check "seed_example3.py array sum ($py_sum) equals fill's ($npy_sum)" [ "$py_sum" = "$npy_sum" ]
[ "$FAILED" = 0 ] || { say "readfill: outputs differ; no timings taken"; exit 1; }

# ------------------------------------------------------------ timings
# Arrays go to tmpfs when there is one (the seed's array lives in memory
# too), so neither the disk nor background writeback sets the pace; the
# previous output is removed before each run (--prepare), so freeing it is
# not timed either.
ARR=$TMP
[ -d /dev/shm ] && [ -w /dev/shm ] && ARR=$(mktemp -d /dev/shm/wsrun-readfill.XXXXXX)
trap 'rm -rf "$TMP"; [ "$ARR" != "$TMP" ] && rm -rf "$ARR"' EXIT
load1=$(cut -d' ' -f1 /proc/loadavg)
say "readfill: $COUNT images, -j1 and -j$JN, $RUNS runs each; load average $load1"
RT=""
if [ "${READFILL_RT:-0}" = 1 ]; then
    RT="chrt -f 10"
    $RT true || die "READFILL_RT=1 needs chrt and root"
    say "readfill: 2000-image timings under SCHED_FIFO ($RT)"
fi
$RT hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$OUT/files.json" \
    --prepare "rm -f $ARR/f.npy $TMP/m.csv" \
    -n "read -j1" "$WSRUN --plugin read -q -j1 -o input=$PATTERN -o output=$TMP/m.csv" \
    -n "read -j$JN" "$WSRUN --plugin read -q -j$JN -o input=$PATTERN -o output=$TMP/m.csv" \
    -n "read_serial" "$OUT/read_serial $PATTERN $COUNT" \
    -n "fill -j1" "$WSRUN --plugin fill -q -j1 -o input=$PATTERN -o output=$ARR/f.npy" \
    -n "fill -j$JN" "$WSRUN --plugin fill -q -j$JN -o input=$PATTERN -o output=$ARR/f.npy" \
    -n "fill_omp 1 thread" "env OMP_NUM_THREADS=1 $OUT/fill_omp $PATTERN $COUNT $ARR/f.npy" \
    -n "fill_omp $JN threads" "env OMP_NUM_THREADS=$JN $OUT/fill_omp $PATTERN $COUNT $ARR/f.npy" \
    -n "seed_example3.py" "sh -c 'cd $IMG && exec $PY $ROOT/bench/peers/seed_example3.py .'" \
    >&2 || die "hyperfine failed"

BIG_BYTES=$((FILL_MIB * 1024 * 1024))
BIG_COUNT=$((BIG_BYTES / 65536)) # 256 x 256 uint8 images
BIG_RUNS=$(( RUNS < 3 ? RUNS : 3 ))
hyperfine -N --warmup 1 --runs "$BIG_RUNS" --export-json "$OUT/big.json" \
    --prepare "rm -f $ARR/big.npy" \
    -n "fill noise ${FILL_MIB} MiB -j1" "$WSRUN --plugin fill -q -j1 -o source=noise --count $BIG_COUNT -o width=256 -o height=256 -o output=$ARR/big.npy" \
    -n "fill noise ${FILL_MIB} MiB -j$JN" "$WSRUN --plugin fill -q -j$JN -o source=noise --count $BIG_COUNT -o width=256 -o height=256 -o output=$ARR/big.npy" \
    -n "memset ${FILL_MIB} MiB file mapping" "$OUT/memset_bench $BIG_BYTES $ARR/ms.bin" \
    -n "memset ${FILL_MIB} MiB anonymous" "$OUT/memset_bench $BIG_BYTES" \
    >&2 || die "hyperfine failed (big array)"
rm -f "$ARR/big.npy"

# ------------------------------------------------------------ summary
$PY - "$OUT/files.json" "$OUT/big.json" "$JN" "$BIG_BYTES" "$load1" \
    "$(cut -d' ' -f1 /proc/loadavg)" "${RT:+2000-image timings under }${RT:-normal priority}" \
    <<'EOF' | tee "$OUT/summary.txt"
import json, sys
files, big, jn, big_bytes, load0, load1, rt = sys.argv[1:8]
t = {r["command"]: r for r in json.load(open(files))["results"]}
b = {r["command"]: r for r in json.load(open(big))["results"]}
def line(name, r, extra=""):
    print(f"{name:34s} mean {r['mean']*1e3:9.1f} ms  min {r['min']*1e3:9.1f} ms  "
          f"± {r['stddev']*1e3:6.1f} ms{extra}")
print(f"load average {load0} at start, {load1} at end; {rt}")
for name, r in t.items():
    line(name, r)
for name, r in b.items():
    line(name, r, f"  {int(big_bytes)/r['mean']/1e9:6.2f} GB/s (mean)")
m = lambda k: t[k]["mean"]
print(f"read speedup -j{jn}/-j1: {m('read -j1')/m(f'read -j{jn}'):.2f}  "
      f"fill speedup: {m('fill -j1')/m(f'fill -j{jn}'):.2f}  (target >= 1.8)")
print(f"fill_omp speedup {jn} threads/1 thread: "
      f"{m('fill_omp 1 thread')/m(f'fill_omp {jn} threads'):.2f} (the same machine's ceiling)")
print(f"read -j{jn} vs read_serial: {m('read_serial')/m(f'read -j{jn}'):.2f}x faster")
print(f"fill -j{jn} vs seed_example3.py: {m('seed_example3.py')/m(f'fill -j{jn}'):.1f}x faster "
      f"(target >= 10)")
print(f"fill -j{jn} vs fill_omp: {m(f'fill_omp {jn} threads')/m(f'fill -j{jn}'):.2f}x "
      f"(target >= 1.0, no slower)")
EOF

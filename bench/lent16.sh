#!/usr/bin/env bash
# bench/lent16.sh - the prepared run for the lent 16-core machine (issue
# 17), which has no package archive and ~15 minutes of device time in all.
#
#   bench/lent16.sh pack [DIR]   here: copy wsrun, its plugins, the peers,
#                                the wake-up microbenchmark and every shared
#                                library they load (oneTBB, libomp, libgomp,
#                                libpng, ...) into DIR (default build16, a
#                                git-ignored folder the device tool carries)
#   bench/lent16.sh run [DIR]    there: fib(40), uts T3, empty 10^8 and spin
#                                heavy at -j 1 2 4 8 16 with the libgomp,
#                                libomp and oneTBB peers, plus the wake-up
#                                microbenchmark; results into $OUT (or
#                                DIR/out): raw.csv, meta.txt, log.txt
#
# Budget (run): about 8 minutes on 16 cores; BENCH_REPS (default 3) and the
# sizes below can be lowered.  `report` afterwards, here:
#   /usr/bin/python3 bench/report.py --raw OUT/raw.csv --meta OUT/meta.txt \
#       --mode full --label lent16
# Dry run here with tiny sizes: LENT16_DRY=1 bench/lent16.sh run (-j 1 2).
#
# Must never write outside DIR and $OUT, and never build anything in run
# mode (BENCH_PREBUILT=1: the suite stops naming any missing binary).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
MODE=${1:?usage: bench/lent16.sh pack|run [DIR]}
DIR=${2:-build16}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
say() { printf '%s\n' "$*" >&2; }
die() { say "lent16: $*"; exit 2; }

pack() {
    local b=${BUILD:-build} f lib
    [ -x "$b/wsrun" ] || die "$b/wsrun missing: make all first"
    BUILD=$b BENCH_BUILD_ONLY=1 BENCH_ONLY="fib uts spin empty" bench/run.sh || die "peers did not build"
    make --no-print-directory BUILD="$b" "$b/bench/wake_latency" >/dev/null || die "wake_latency did not build"
    rm -rf "$DIR" && mkdir -p "$DIR/plugins" "$DIR/bench/peers" "$DIR/lib" || die "cannot create $DIR"
    cp "$b/wsrun" "$DIR/" && cp "$b"/plugins/{fib,uts,spin,empty}.so "$DIR/plugins/" &&
        cp "$b/bench/wake_latency" "$DIR/bench/" || die "copy failed"
    for f in fib uts spin; do cp "$b/bench/peers/${f}_"{serial,omp,llvm_omp,tbb} "$DIR/bench/peers/" || die "copy failed"; done
    cp "$b/bench/peers/empty_"{loop,omp,llvm_omp,tbb} "$DIR/bench/peers/" || die "copy failed"
    # The tree before the wake-up change, if built (LENT16_WAKE_BEFORE=path).
    [ -n "${LENT16_WAKE_BEFORE:-}" ] && cp "$LENT16_WAKE_BEFORE" "$DIR/bench/wake_latency_before"
    # Every library the binaries load except the C library's own parts.
    for f in "$DIR/wsrun" "$DIR"/plugins/*.so "$DIR"/bench/peers/* "$DIR"/bench/wake_latency; do
        ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
    done | sort -u | while read -r lib; do
        case $(basename "$lib") in libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | ld-linux*) continue ;; esac
        cp -L "$lib" "$DIR/lib/" || die "cannot copy $lib"
    done
    strip --strip-debug "$DIR"/wsrun "$DIR"/plugins/*.so "$DIR"/bench/peers/* "$DIR"/bench/wake_latency* 2>/dev/null
    say "lent16: packed $(du -sh "$DIR" | cut -f1) into $DIR: $(ls "$DIR/lib" | tr '\n' ' ')"
}

run() {
    local out=${OUT:-$DIR/out} t0=$SECONDS
    mkdir -p "$out" || die "cannot create $out"
    export LD_LIBRARY_PATH=$DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    local jobs="1 2 4 8 16"
    [ "$(nproc)" -lt 16 ] && say "lent16: only $(nproc) CPUs here"
    if [ "${LENT16_DRY:-0}" = 1 ]; then
        export BENCH_JOBS="1 2" BENCH_FIB_N=25 BENCH_FIB_OMP_N=20 BENCH_UTS_TREES=small \
            BENCH_SPIN_COUNT=2000 BENCH_EMPTY_COUNT=1000000 BENCH_REPS=2
    else
        export BENCH_JOBS=$jobs BENCH_FIB_N=${BENCH_FIB_N:-40} BENCH_FIB_OMP_N=${BENCH_FIB_OMP_N:-30} \
            BENCH_UTS_TREES=${BENCH_UTS_TREES:-T3} BENCH_REPS=${BENCH_REPS:-3}
    fi
    export BENCH_SPIN_SHAPES=heavy BENCH_ONLY="fib uts spin empty"
    {
        echo "== wake-up microbenchmark (after; before if packed)"
        "$DIR/bench/wake_latency" 300
        [ -x "$DIR/bench/wake_latency_before" ] && "$DIR/bench/wake_latency_before" 300
        BUILD=$DIR BENCH_PREBUILT=1 BENCH_NO_REPORT=1 BENCH_MACHINE="lent 16-core device" bench/run.sh
        echo "lent16: exit $? after $((SECONDS - t0)) s"
    } >"$out/log.txt" 2>&1
    cp "$DIR/bench/raw.csv" "$DIR/bench/meta.txt" "$out/" 2>/dev/null
    tail -5 "$out/log.txt"
}

case $MODE in
pack) pack ;;
run) run ;;
*) die "usage: bench/lent16.sh pack|run [DIR]" ;;
esac

#!/usr/bin/env bash
# bench/run.sh - the benchmark suite behind `make bench` (and `make
# bench-quick`, BENCH_QUICK=1: smaller sizes, fewer runs, under 2 minutes).
#
# For each workload it runs wsrun at -j 1..N (N = the CPUs this process may
# use; 1,2,4,8,.. beyond 8) and, in the same run, the peers from
# bench/peers/: serial C, OpenMP tasks and loops (gcc's libgomp, and LLVM's
# libomp: the same sources built with clang), oneTBB, and the
# seed's Python examples.  Runs of different programs are interleaved, so a
# disturbance hits all of them alike; each time is the median of several
# runs.  Raw runs go to $BUILD/bench/raw.csv; bench/report.py turns them
# into bench/results/latest.csv, the scaling plot (bench/plot.gp) and the
# table in docs/benchmarks.md.  Quick mode writes *-quick files and leaves
# docs/benchmarks.md alone.
#
# Knobs (environment; unset, the suite is `make bench`'s):
#   BUILD=dir           the build folder, relative to the repository root or
#                       absolute (default build)
#   BENCH_QUICK=1       quick mode (above)
#   BENCH_NOISE_DIR=dir where noise writes its files (default a /dev/shm folder)
#   BENCH_BUILD_ONLY=1  build the peers into $BUILD/bench/peers and stop
#   BENCH_PREBUILT=1    run binaries built elsewhere: no Debian package check
#                       and no peer build; every peer and plugin the chosen
#                       workloads run must already be under $BUILD, else the
#                       suite stops naming the missing one; meta.txt takes the
#                       compiler from the binaries and oneTBB from the
#                       libtbb the tbb peers load (LD_LIBRARY_PATH), not dpkg
#   BENCH_PYTHON=path   the python3 of the seed's examples (default
#                       /usr/bin/python3); it must import numpy and cv2
#   BENCH_FIB_OMP_N=n   fib's size for OpenMP tasks, libgomp and libomp alike
#                       (default 35, quick 27)
#   BENCH_FIB_N, BENCH_UTS_TREES, BENCH_SPIN_SHAPES, BENCH_SPIN_COUNT,
#   BENCH_EMPTY_COUNT, BENCH_REPS, BENCH_JOBS="1 2 4"
#                       override the mode's sizes, runs per case and -j list
#   BENCH_NOISE_ROUNDS=n, BENCH_NOISE_PAIRS_COUNT=n
#                       paired rounds and images of the noise pairs
#                       (bench/noise_pairs.sh; default 15 and 20000, quick
#                       5 and 2000)
#   BENCH_POOL_PROCS=N  noise also runs the seed's Example 1 with Pool(N) at
#                       -j N ("python-pool-N"), beside its Pool(2) case
#   BENCH_ONLY="w ..."  only these workloads, in the suite's order: fib
#                       nqueens uts spin empty longtask noise readfill
#                       python pymap (python: bench/python.sh, the python
#                       plugin against Pool.map and the others; pymap:
#                       bench/python_map.sh, the wsrun Python package
#                       against multiprocessing; each prints its own tables
#                       and keeps them in $BUILD/bench/<name>/summary.txt,
#                       not in report.py; quick in quick mode)
#   BENCH_APPEND=1      add to raw.csv and meta.txt instead of starting them
#                       afresh (a suite split over several commands)
#   BENCH_MACHINE=text  a line about the machine, kept as machine= in meta.txt
#   BENCH_LABEL=name    report with report.py --label name: results files
#                       *-name and a section of docs/benchmarks.md of its own
#   BENCH_NO_REPORT=1   stop after the runs ($BUILD/bench/raw.csv and
#                       meta.txt); report.py can be run on them later
#
# Must never write outside $BUILD/bench, bench/results, docs/benchmarks.md
# and one temporary folder (removed at exit), and never hide a wrong result:
# a run whose output is not the expected one is reported and fails the suite.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
QUICK=${BENCH_QUICK:-0}
PREBUILT=${BENCH_PREBUILT:-0}
BUILD_ONLY=${BENCH_BUILD_ONLY:-0}
APPEND=${BENCH_APPEND:-0}
WSRUN=$BDIR/wsrun
PEERS=$BDIR/bench/peers
RAW=$BDIR/bench/raw.csv
META=$BDIR/bench/meta.txt
# The seed's examples run with Debian's python3 (python3-numpy and
# python3-opencv) unless BENCH_PYTHON names another; report.py needs only
# the standard library and always runs with Debian's.
PY=${BENCH_PYTHON:-/usr/bin/python3}
REPORT_PY=/usr/bin/python3
ALL_WORKLOADS="fib nqueens uts spin empty longtask noise readfill python pymap"
ONLY=${BENCH_ONLY:-$ALL_WORKLOADS}
unset WSRUN_PLUGIN_PATH # the plugins beside $WSRUN, nothing else

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 2; }
wants() { case " $(echo $ONLY) " in *" $1 "*) return 0 ;; esac; return 1; } # WORKLOAD chosen?

for w in $ONLY; do
    case " $ALL_WORKLOADS " in *" $w "*) ;; *) die "BENCH_ONLY: unknown workload '$w' (known: $ALL_WORKLOADS)" ;; esac
done
[ -n "$(echo $ONLY)" ] || die "BENCH_ONLY names no workload (known: $ALL_WORKLOADS)"
case ${BENCH_FIB_OMP_N:-35} in '' | *[!0-9]*) die "BENCH_FIB_OMP_N must be a number, not '$BENCH_FIB_OMP_N'" ;; esac
case ${BENCH_POOL_PROCS:-2} in '' | *[!0-9]* | 0) die "BENCH_POOL_PROCS must be a positive number, not '$BENCH_POOL_PROCS'" ;; esac
[ "$PREBUILT" = 1 ] && [ "$BUILD_ONLY" = 1 ] && die "BENCH_PREBUILT=1 and BENCH_BUILD_ONLY=1 exclude each other"

[ -x "$WSRUN" ] || die "$WSRUN not found: run 'make BUILD=$BUILD all' first"
if [ "$PREBUILT" != 1 ]; then
    scripts/need-debian-packages gcc g++ libtbb-dev gnuplot-nox python3-numpy python3-opencv \
        hyperfine libpng-dev pkg-config clang libomp-dev || die "missing Debian packages (see above)"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wsrun-bench.XXXXXX") || die "cannot make a temporary folder"
# Noise files go to memory (tmpfs) unless BENCH_NOISE_DIR says otherwise:
# on this VM's disk (ext4 mounted with discard) creating a file after a
# deletion costs ~0.3 ms in the kernel under the folder's lock, which
# measures the file system, not the runtimes.  A disk run is added below.
NOISE_ROOT=${BENCH_NOISE_DIR:-}
if [ -z "$NOISE_ROOT" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    NOISE_ROOT=$(mktemp -d /dev/shm/wsrun-bench-noise.XXXXXX) || NOISE_ROOT=
fi
[ -n "$NOISE_ROOT" ] || NOISE_ROOT=$TMP
trap 'rm -rf "$TMP"; case "$NOISE_ROOT" in /dev/shm/wsrun-bench-noise.*) rm -rf "$NOISE_ROOT";; esac' EXIT
mkdir -p "$PEERS" bench/results || die "cannot create $PEERS"

# ------------------------------------------------------------ sizes
if [ "$QUICK" = 1 ]; then
    MODE=quick REPS=3 SLOW_US=1000000
    FIB_N=35 FIB_OMP_N=27 NQ_N=13 UTS_TREES="small small-bin"
    SPIN_COUNT=10000 SPIN_SHAPES="heavy" EMPTY_COUNT=100000000 LONG_US=500000
    NOISE_COUNT=2000 FILL_MIB=256
else
    MODE=full REPS=5 SLOW_US=5000000
    FIB_N=35 FIB_OMP_N=35 NQ_N=13 UTS_TREES="T1 T3"
    SPIN_COUNT=50000 SPIN_SHAPES="uniform heavy pareto giant" EMPTY_COUNT=100000000
    LONG_US=2000000 NOISE_COUNT=2000 FILL_MIB=1024
fi
NCPU=$(nproc)
PROBES=0 SCALING_REPS_FACTOR=1
if [ "$NCPU" -le 4 ] && command -v taskset >/dev/null; then
    PROBES=1 SCALING_REPS_FACTOR=2
fi
if [ "$NCPU" -le 8 ]; then
    JOBS=$(seq 1 "$NCPU")
else
    JOBS=$(j=1; while [ "$j" -lt "$NCPU" ]; do echo "$j"; j=$((j * 2)); done; echo "$NCPU")
fi
JMAX=$NCPU
FIB_OMP_N=${BENCH_FIB_OMP_N:-$FIB_OMP_N}
# Size overrides (the 16-core script, bench/lent16.sh, and its dry run).
FIB_N=${BENCH_FIB_N:-$FIB_N} UTS_TREES=${BENCH_UTS_TREES:-$UTS_TREES} REPS=${BENCH_REPS:-$REPS}
SPIN_SHAPES=${BENCH_SPIN_SHAPES:-$SPIN_SHAPES} SPIN_COUNT=${BENCH_SPIN_COUNT:-$SPIN_COUNT}
EMPTY_COUNT=${BENCH_EMPTY_COUNT:-$EMPTY_COUNT} JOBS=${BENCH_JOBS:-$JOBS}
POOL_PROCS=${BENCH_POOL_PROCS:-}

# ------------------------------------------------------------ building the peers
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -pthread"
CXXFLAGS="-std=c++17 -O2 -g -Wall -Wextra -Werror -pthread"
INC="-Iinclude -Iplugins -Ibench/peers"
PNG_CFLAGS=$(pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS="$(pkg-config --libs libpng 2>/dev/null || echo -lpng) -lz"
DEPS=$(ls include/wsrun.h plugins/*.h bench/peers/*.h tasks/*.h 2>/dev/null)

# stale BIN SRC: true when BIN is missing or older than SRC or a header.
stale() {
    local bin=$1 f
    [ -e "$bin" ] || return 0
    for f in "${@:2}" $DEPS; do [ "$f" -nt "$bin" ] && return 0; done
    return 1
}

BUILD_FAILED=0
build_one() { # NAME COMMAND... (runs in the background; logs to $PEERS/NAME.log)
    local name=$1
    shift
    ( "$@" >"$PEERS/$name.log" 2>&1 || { echo "bench: building $name failed:" >&2; cat "$PEERS/$name.log" >&2; exit 1; } ) &
    while [ "$(jobs -rp | wc -l)" -ge "$NCPU" ]; do wait -n || BUILD_FAILED=1; done
}

build_peers() {
    local n src
    say "bench: building peers into $PEERS"
    stale "$PEERS/spin_peer.o" bench/peers/spin_peer.c &&
        build_one spin_peer.o gcc $CFLAGS $INC -c bench/peers/spin_peer.c -o "$PEERS/spin_peer.o"
    stale "$PEERS/empty_load.o" bench/peers/empty_load.c &&
        build_one empty_load.o gcc $CFLAGS $INC -c bench/peers/empty_load.c -o "$PEERS/empty_load.o"
    wait || BUILD_FAILED=1
    # LLVM's libomp peers: the libgomp peers' sources built with clang
    # (*_llvm_omp), after the objects they link are there.
    stale "$PEERS/spin_peer_clang.o" bench/peers/spin_peer.c &&
        build_one spin_peer_clang.o clang $CFLAGS $INC -c bench/peers/spin_peer.c -o "$PEERS/spin_peer_clang.o"
    stale "$PEERS/empty_load_clang.o" bench/peers/empty_load.c &&
        build_one empty_load_clang.o clang $CFLAGS $INC -c bench/peers/empty_load.c -o "$PEERS/empty_load_clang.o"
    wait || BUILD_FAILED=1
    for n in fib nqueens uts; do
        stale "$PEERS/${n}_llvm_omp" "bench/peers/${n}_omp.c" &&
            build_one "${n}_llvm_omp" clang $CFLAGS -fopenmp $INC "bench/peers/${n}_omp.c" -o "$PEERS/${n}_llvm_omp" -lm
    done
    stale "$PEERS/spin_llvm_omp" bench/peers/spin_omp.c "$PEERS/spin_peer_clang.o" &&
        build_one spin_llvm_omp clang $CFLAGS -fopenmp $INC bench/peers/spin_omp.c "$PEERS/spin_peer_clang.o" \
            -o "$PEERS/spin_llvm_omp" -lm
    stale "$PEERS/empty_llvm_omp" bench/peers/empty_omp.c "$PEERS/empty_load_clang.o" &&
        build_one empty_llvm_omp clang $CFLAGS -fopenmp $INC bench/peers/empty_omp.c "$PEERS/empty_load_clang.o" \
            -o "$PEERS/empty_llvm_omp" -ldl
    for n in fib nqueens uts; do
        stale "$PEERS/${n}_serial" "bench/peers/${n}_serial.c" &&
            build_one "${n}_serial" gcc $CFLAGS $INC "bench/peers/${n}_serial.c" -o "$PEERS/${n}_serial" -lm
        stale "$PEERS/${n}_omp" "bench/peers/${n}_omp.c" &&
            build_one "${n}_omp" gcc $CFLAGS -fopenmp $INC "bench/peers/${n}_omp.c" -o "$PEERS/${n}_omp" -lm
        stale "$PEERS/${n}_tbb" "bench/peers/${n}_tbb.cpp" &&
            build_one "${n}_tbb" g++ $CXXFLAGS $INC "bench/peers/${n}_tbb.cpp" -o "$PEERS/${n}_tbb" -ltbb
    done
    stale "$PEERS/spin_serial" bench/peers/spin_serial.c "$PEERS/spin_peer.o" &&
        build_one spin_serial gcc $CFLAGS $INC bench/peers/spin_serial.c "$PEERS/spin_peer.o" -o "$PEERS/spin_serial" -lm
    stale "$PEERS/spin_omp" bench/peers/spin_omp.c "$PEERS/spin_peer.o" &&
        build_one spin_omp gcc $CFLAGS -fopenmp $INC bench/peers/spin_omp.c "$PEERS/spin_peer.o" -o "$PEERS/spin_omp" -lm
    stale "$PEERS/spin_tbb" bench/peers/spin_tbb.cpp "$PEERS/spin_peer.o" &&
        build_one spin_tbb g++ $CXXFLAGS $INC bench/peers/spin_tbb.cpp "$PEERS/spin_peer.o" -o "$PEERS/spin_tbb" -ltbb -lm
    stale "$PEERS/empty_loop" bench/peers/empty_loop.c "$PEERS/empty_load.o" &&
        build_one empty_loop gcc $CFLAGS $INC bench/peers/empty_loop.c "$PEERS/empty_load.o" -o "$PEERS/empty_loop" -ldl
    stale "$PEERS/empty_omp" bench/peers/empty_omp.c "$PEERS/empty_load.o" &&
        build_one empty_omp gcc $CFLAGS -fopenmp $INC bench/peers/empty_omp.c "$PEERS/empty_load.o" -o "$PEERS/empty_omp" -ldl
    stale "$PEERS/empty_tbb" bench/peers/empty_tbb.cpp "$PEERS/empty_load.o" &&
        build_one empty_tbb g++ $CXXFLAGS $INC bench/peers/empty_tbb.cpp "$PEERS/empty_load.o" -o "$PEERS/empty_tbb" -ltbb -ldl
    # The noise, read and fill peers belong to other parts of the project:
    # built when present, with libpng (and OpenMP when they use it).
    for src in bench/peers/noise_serial.c bench/peers/noise_omp.c bench/peers/noise_plain_omp.c \
        bench/peers/read_serial.c bench/peers/fill_omp.c bench/peers/memset_bench.c; do
        [ -f "$src" ] || continue
        n=$(basename "$src" .c)
        local omp=""
        grep -q 'pragma omp\|<omp.h>' "$src" && omp=-fopenmp
        stale "$PEERS/$n" "$src" &&
            build_one "$n" gcc -std=c11 -D_GNU_SOURCE -O2 -g -pthread $omp -Iinclude -Itasks $PNG_CFLAGS \
                "$src" -o "$PEERS/$n" $PNG_LIBS -lm
    done
    wait || BUILD_FAILED=1
    [ "$BUILD_FAILED" = 0 ] || die "a peer did not build (see above)"
}

# check_prebuilt: BENCH_PREBUILT=1 builds nothing, so every peer and plugin
# the chosen workloads run must be there already.  The peers of other parts
# of the project count when their source is here, as build_peers builds them.
check_prebuilt() {
    local need="" n f lib how
    local w
    for w in fib nqueens uts spin; do
        wants $w && need+=" peers/${w}_serial peers/${w}_omp peers/${w}_llvm_omp peers/${w}_tbb plugins/$w.so"
    done
    wants empty && need+=" peers/empty_loop peers/empty_omp peers/empty_llvm_omp peers/empty_tbb plugins/empty.so"
    wants longtask && need+=" plugins/spin.so"
    wants noise && need+=" plugins/noise.so"
    wants noise && [ -f bench/peers/noise_serial.c ] && need+=" peers/noise_serial"
    wants noise && [ -f bench/peers/noise_omp.c ] && need+=" peers/noise_omp"
    wants noise && [ -f bench/peers/noise_plain_omp.c ] && need+=" peers/noise_plain_omp"
    if wants readfill; then
        need+=" plugins/noise.so"
        for n in read_serial fill_omp memset_bench; do
            [ -f "bench/peers/$n.c" ] && need+=" peers/$n"
        done
    fi
    for n in $need; do
        case $n in
        peers/*) f=$PEERS/${n#peers/} how="BENCH_BUILD_ONLY=1 BUILD=$BUILD bench/run.sh builds the peers" ;;
        *) f=$BDIR/$n how="make BUILD=$BUILD all builds the plugins" ;;
        esac
        [ -f "$f" ] || die "BENCH_PREBUILT=1 but $f is missing ($how)"
        [ -x "$f" ] || [ "$f" = "$BDIR/$n" ] || die "BENCH_PREBUILT=1 but $f is not executable"
        lib=$(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 == "not" {print $1; exit}')
        [ -z "$lib" ] || die "$f needs $lib, which the dynamic linker does not find (LD_LIBRARY_PATH?)"
    done
    return 0
}

# check_python: a python named by BENCH_PYTHON, or any on a machine whose
# packages were not checked, must import what the seed's examples import.
check_python() {
    { wants noise && [ -f bench/peers/seed_example1.py ]; } ||
        { wants readfill && [ -f bench/peers/seed_example3.py ]; } || return 0
    [ "$PREBUILT" = 1 ] || [ -n "${BENCH_PYTHON:-}" ] || return 0
    "$PY" -c 'import numpy, cv2' >/dev/null 2>&1 ||
        die "$PY cannot import numpy and cv2, which the seed's examples need (set BENCH_PYTHON)"
}

# ------------------------------------------------------------ measuring
# A case is one program at one -j; cases of a workload are run REPS times,
# interleaved.  A case slower than SLOW_US on its first run runs only once.
declare -a C_IMPL C_JOBS C_EXPECT C_CMD C_PREP C_SIZE
NCASES=0
add_case() { # SIZE IMPL JOBS EXPECT PREP CMD...
    C_SIZE[NCASES]=$1 C_IMPL[NCASES]=$2 C_JOBS[NCASES]=$3 C_EXPECT[NCASES]=$4 C_PREP[NCASES]=$5
    shift 5
    C_CMD[NCASES]=$(printf '%q ' "$@")
    NCASES=$((NCASES + 1))
}

FAILED_RUNS=0
TOTAL_DONE=0
WALL_ONLY=0 # 1: time whole processes even when they print time_s
# run_cases WORKLOAD: run the cases added since the last call, then forget
# them.  Parsing is done in bash, not awk: a process start costs
# milliseconds here, and there are hundreds of runs.
run_cases() {
    local workload=$1 rep i first_us=() start end us rc ok mark t extra found k v rest line
    for ((rep = 1; rep <= REPS; rep++)); do
        for ((i = 0; i < NCASES; i++)); do
            [ "$rep" -gt 1 ] && [ "${first_us[i]}" -gt "$SLOW_US" ] && continue
            [ -n "${C_PREP[i]}" ] && eval "${C_PREP[i]}"
            start=${EPOCHREALTIME/./}
            eval "${C_CMD[i]}" >"$TMP/out" 2>"$TMP/err"
            rc=$?
            end=${EPOCHREALTIME/./}
            us=$((end - start))
            t="" extra="" found=0
            while IFS= read -r line; do
                [ "$line" = "${C_EXPECT[i]}" ] && found=1
                read -r k v rest <<<"$line"
                case $k in
                time_s) [ "$WALL_ONLY" = 1 ] || t=${t:-$v} ;;
                spawns | cpu_s) extra+="${extra:+;}$k=$v" ;;
                worker_cpu_s) extra+="${extra:+;}cpu$v=$rest" ;;
                esac
            done <"$TMP/out"
            [ -n "$t" ] || printf -v t '%d.%06d' $((us / 1000000)) $((us % 1000000))
            ok=1 mark=""
            if [ "$rc" != 0 ] || { [ -n "${C_EXPECT[i]}" ] && [ "$found" = 0 ]; }; then
                ok=0 mark="  WRONG"
                FAILED_RUNS=$((FAILED_RUNS + 1))
                say "bench: FAILED: $workload ${C_SIZE[i]} ${C_IMPL[i]} -j${C_JOBS[i]} (exit $rc); expected: ${C_EXPECT[i]:-exit 0}"
                head -5 "$TMP/out" >&2
                tail -5 "$TMP/err" >&2
            fi
            [ "$rep" = 1 ] && first_us[i]=$us
            printf '%s,%s,%s,%s,%s,%s,%d.%06d,%s,%s\n' "$workload" "${C_SIZE[i]}" "${C_IMPL[i]}" \
                "${C_JOBS[i]}" "$rep" "$t" $((us / 1000000)) $((us % 1000000)) "$ok" "$extra" >>"$RAW"
            TOTAL_DONE=$((TOTAL_DONE + 1))
            printf '  [%4d] %-10s %-10s %-16s -j%-3s run %d/%d  %10s s%s\n' "$TOTAL_DONE" "$workload" \
                "${C_SIZE[i]}" "${C_IMPL[i]}" "${C_JOBS[i]}" "$rep" "$REPS" "$t" "$mark" >&2
        done
    done
    NCASES=0
}

ws() { "$WSRUN" "$@"; } # wsrun, by absolute path

# CPU probes.  On a machine of up to 4 CPUs (this project's shared VM) each
# round of fib, nqueens and uts starts and ends with serial fib(35) pinned to
# each CPU in turn (impl cpuN-start, cpuN-end; size "probe"), and those
# workloads run SCALING_REPS_FACTOR times as many rounds.  One CPU here is
# at times ~1.7x slower than the other (its host core busy); a round run
# then measures the host more than any runtime, and report.py gives the
# speedups both over all rounds and over the rounds whose probes agree.
add_cpu_probes() { # start|end GROUP (the workload, or uts's tree)
    local c
    [ "$PROBES" = 1 ] || return 0
    for c in $(cpu_list); do
        add_case "probe-$2" "cpu$c-$1" 1 "fib(35) = 9227465" "" taskset -c "$c" "$PEERS/fib_serial" n=35
    done
}

# cpu_list: the numbers of the CPUs this process may use, one per line.
cpu_list() {
    local part a b
    for part in $(taskset -pc $$ | sed 's/.*: //; s/,/ /g'); do
        a=${part%-*} b=${part#*-}
        seq "$a" "$b"
    done
}

# ------------------------------------------------------------ workloads
bench_fib() {
    local want="fib($FIB_N) = 9227465" j
    [ "$FIB_N" = 35 ] || want=""
    say "== fib(n=$FIB_N), one task per call; OpenMP tasks at n=$FIB_OMP_N (compared per spawn)"
    add_cpu_probes start fib
    add_case "n=$FIB_N" serial 1 "$want" "" "$PEERS/fib_serial" "n=$FIB_N"
    for j in $JOBS; do
        add_case "n=$FIB_N" wsrun "$j" "$want" "" ws --plugin fib -j "$j" -o "n=$FIB_N" -o timing=on
        add_case "n=$FIB_N" tbb-task_group "$j" "$want" "" "$PEERS/fib_tbb" -j "$j" "n=$FIB_N"
        add_case "n=$FIB_OMP_N" omp-task "$j" "" "" "$PEERS/fib_omp" -j "$j" "n=$FIB_OMP_N"
        add_case "n=$FIB_OMP_N" llvm-omp-task "$j" "" "" "$PEERS/fib_llvm_omp" -j "$j" "n=$FIB_OMP_N"
    done
    add_cpu_probes end fib
    REPS=$((REPS * SCALING_REPS_FACTOR)) run_cases fib
}

bench_nqueens() {
    local want="" j
    [ "$NQ_N" = 13 ] && want="nqueens(13) = 73712"
    say "== nqueens(n=$NQ_N), one task per safe column"
    add_cpu_probes start nqueens
    add_case "n=$NQ_N" serial 1 "$want" "" "$PEERS/nqueens_serial" "n=$NQ_N"
    for j in $JOBS; do
        add_case "n=$NQ_N" wsrun "$j" "$want" "" ws --plugin nqueens -j "$j" -o "n=$NQ_N" -o timing=on
        add_case "n=$NQ_N" omp-task "$j" "$want" "" "$PEERS/nqueens_omp" -j "$j" "n=$NQ_N"
        add_case "n=$NQ_N" llvm-omp-task "$j" "$want" "" "$PEERS/nqueens_llvm_omp" -j "$j" "n=$NQ_N"
        add_case "n=$NQ_N" tbb-task_group "$j" "$want" "" "$PEERS/nqueens_tbb" -j "$j" "n=$NQ_N"
    done
    add_cpu_probes end nqueens
    REPS=$((REPS * SCALING_REPS_FACTOR)) run_cases nqueens
}

bench_uts() {
    local tree j
    for tree in $UTS_TREES; do
        say "== uts tree=$tree, one task per child"
        add_cpu_probes start "$tree"
        add_case "$tree" serial 1 "" "" "$PEERS/uts_serial" "tree=$tree"
        for j in $JOBS; do
            add_case "$tree" wsrun "$j" "" "" ws --plugin uts -j "$j" -o "tree=$tree" -o timing=on
            add_case "$tree" omp-task "$j" "" "" "$PEERS/uts_omp" -j "$j" "tree=$tree"
            add_case "$tree" llvm-omp-task "$j" "" "" "$PEERS/uts_llvm_omp" -j "$j" "tree=$tree"
            add_case "$tree" tbb-task_group "$j" "" "" "$PEERS/uts_tbb" -j "$j" "tree=$tree"
        done
        add_cpu_probes end "$tree"
        REPS=$((REPS * SCALING_REPS_FACTOR)) run_cases uts
    done
}

bench_spin() {
    local ipu shape j common sched
    ipu=$("$PEERS/spin_serial" calibrate=1 | awk '$1 == "iters_per_us" {print $2}')
    [ -n "$ipu" ] || die "spin calibration failed"
    echo "spin_iters_per_us=$ipu" >>"$META"
    for shape in $SPIN_SHAPES; do
        say "== spin shape=$shape, $SPIN_COUNT indices of 10 us mean ($ipu loop steps per us)"
        common="count=$SPIN_COUNT mean-us=10 shape=$shape iters-per-us=$ipu seed=1"
        add_case "$shape" serial 1 "" "" "$PEERS/spin_serial" $common
        for j in $JOBS; do
            add_case "$shape" wsrun "$j" "" "" ws --plugin spin --seed 1 --count "$SPIN_COUNT" -j "$j" \
                -o mean-us=10 -o "shape=$shape" -o "iters-per-us=$ipu" -o timing=on
            add_case "$shape" omp-static "$j" "" "" "$PEERS/spin_omp" -j "$j" schedule=static $common
            add_case "$shape" omp-dynamic "$j" "" "" "$PEERS/spin_omp" -j "$j" schedule=dynamic $common
            add_case "$shape" omp-guided "$j" "" "" "$PEERS/spin_omp" -j "$j" schedule=guided $common
            for sched in static dynamic guided; do
                add_case "$shape" "llvm-omp-$sched" "$j" "" "" "$PEERS/spin_llvm_omp" -j "$j" "schedule=$sched" $common
            done
            add_case "$shape" tbb-parallel_for "$j" "" "" "$PEERS/spin_tbb" -j "$j" $common
        done
        run_cases spin
    done
}

bench_empty() {
    local so="$BDIR/plugins/empty.so" want="empty = $EMPTY_COUNT indices" j
    say "== empty run_one over $EMPTY_COUNT indices"
    add_case "$EMPTY_COUNT" loop 1 "$want" "" "$PEERS/empty_loop" "so=$so" "count=$EMPTY_COUNT"
    for j in $JOBS; do
        add_case "$EMPTY_COUNT" wsrun "$j" "$want" "" ws --plugin empty --count "$EMPTY_COUNT" -j "$j" -o timing=on
        add_case "$EMPTY_COUNT" omp-static "$j" "$want" "" "$PEERS/empty_omp" -j "$j" "so=$so" "count=$EMPTY_COUNT"
        add_case "$EMPTY_COUNT" llvm-omp-static "$j" "$want" "" "$PEERS/empty_llvm_omp" -j "$j" "so=$so" \
            "count=$EMPTY_COUNT"
        add_case "$EMPTY_COUNT" tbb-parallel_for "$j" "$want" "" "$PEERS/empty_tbb" -j "$j" "so=$so" "count=$EMPTY_COUNT"
    done
    run_cases empty
}

bench_longtask() {
    say "== one long task ($LONG_US us) at -j$JMAX: CPU time of the idle workers"
    local ipu
    ipu=$(awk -F= '$1 == "spin_iters_per_us" {print $2}' "$META" | tail -1)
    add_case "$LONG_US" wsrun "$JMAX" "" "" ws --plugin spin --count 1 -j "$JMAX" -o shape=fixed \
        -o "mean-us=$LONG_US" -o "iters-per-us=${ipu:-0}" -o timing=on
    local reps=$REPS
    REPS=1
    run_cases longtask
    REPS=$reps
}

bench_noise() {
    local j dir="$NOISE_ROOT/noise" disk="$TMP/noise-disk" prep
    WALL_ONLY=1
    say "== noise --count $NOISE_COUNT (whole process, files written to $NOISE_ROOT)"
    prep="rm -rf '$dir'; mkdir -p '$dir'"
    for j in $JOBS; do
        add_case "$NOISE_COUNT" wsrun "$j" "" "$prep" ws --plugin noise --count "$NOISE_COUNT" -j "$j" -q \
            -o "prefix=$dir/image_"
        # The OpenMP C writer, same PNG settings and bytes (bench/peers/noise_omp.c).
        [ -x "$PEERS/noise_omp" ] &&
            add_case "$NOISE_COUNT" omp-for "$j" "" "$prep" env OMP_NUM_THREADS="$j" "$PEERS/noise_omp" \
                "$dir" "$NOISE_COUNT"
        # The plain OpenMP loop, libpng through stdio, nothing tuned
        # (bench/peers/noise_plain_omp.c).
        [ -x "$PEERS/noise_plain_omp" ] &&
            add_case "$NOISE_COUNT" omp-plain "$j" "" "$prep" env OMP_NUM_THREADS="$j" \
                "$PEERS/noise_plain_omp" "$dir" "$NOISE_COUNT"
    done
    if [ -x "$PEERS/noise_serial" ]; then
        add_case "$NOISE_COUNT" noise_serial 1 "" "$prep" "$PEERS/noise_serial" "$dir" "$NOISE_COUNT"
    else
        say "bench: bench/peers/noise_serial.c absent: no hand-written C loop for noise"
    fi
    if [ -f bench/peers/seed_example1.py ]; then
        add_case "$NOISE_COUNT" python-pool 2 "" "$prep" "$PY" bench/peers/seed_example1.py "$dir" "$NOISE_COUNT"
        [ -n "$POOL_PROCS" ] &&
            add_case "$NOISE_COUNT" "python-pool-$POOL_PROCS" "$POOL_PROCS" "" "$prep" "$PY" \
                bench/peers/seed_example1.py "$dir" "$NOISE_COUNT" "$POOL_PROCS"
    else
        say "bench: bench/peers/seed_example1.py absent: no Python Pool peer for noise"
    fi
    run_cases noise
    rm -rf "$dir"
    bench_noise_pairs
    if [ "$NOISE_ROOT" != "$TMP" ]; then
        say "== noise --count $NOISE_COUNT on disk ($TMP): the file system's cost, for information"
        prep="rm -rf '$disk'; mkdir -p '$disk'"
        for j in $JOBS; do
            add_case "$NOISE_COUNT" wsrun-disk "$j" "" "$prep" ws --plugin noise --count "$NOISE_COUNT" \
                -j "$j" -q -o "prefix=$disk/image_"
            [ -x "$PEERS/noise_omp" ] &&
                add_case "$NOISE_COUNT" omp-for-disk "$j" "" "$prep" env OMP_NUM_THREADS="$j" \
                    "$PEERS/noise_omp" "$disk" "$NOISE_COUNT"
        done
        [ -f bench/peers/seed_example1.py ] &&
            add_case "$NOISE_COUNT" python-pool-disk 2 "" "$prep" "$PY" bench/peers/seed_example1.py "$disk" \
                "$NOISE_COUNT"
        run_cases noise-disk
        rm -rf "$disk"
    fi
    WALL_ONLY=0
}

# bench_noise_pairs: wsrun against both OpenMP writers in paired rounds
# (bench/noise_pairs.sh), at -j1 and -j2; each ratio's median and its 90%
# confidence interval go to the terminal and to meta.txt (noise_pairs_*),
# from which report.py makes the noise targets.
bench_noise_pairs() {
    [ -x "$PEERS/noise_omp" ] && [ -x "$PEERS/noise_plain_omp" ] || {
        say "bench: a noise peer is missing: no paired noise rounds"
        return 0
    }
    local rounds=${BENCH_NOISE_ROUNDS:-$([ "$QUICK" = 1 ] && echo 5 || echo 15)}
    local count=${BENCH_NOISE_PAIRS_COUNT:-$([ "$QUICK" = 1 ] && echo 2000 || echo 20000)}
    local jobs=1
    [ "$NCPU" -ge 2 ] && jobs="1 2"
    say "== noise --count $count, wsrun against both OpenMP writers, $rounds paired rounds at -j $jobs"
    if BUILD=$BUILD WSRUN=$WSRUN BUILD_PEERS=0 ROUNDS=$rounds COUNT=$count JOBS=$jobs \
        PAIRS_OUT="$TMP/noise_pairs.kv" bench/noise_pairs.sh "$NOISE_ROOT/pairs" >"$TMP/noise_pairs.txt"; then
        sed 's/^/  /' "$TMP/noise_pairs.txt" >&2
        cat "$TMP/noise_pairs.kv" >>"$META"
        cp "$TMP/noise_pairs.txt" "$BDIR/bench/noise_pairs.txt"
    else
        FAILED_RUNS=$((FAILED_RUNS + 1))
        say "bench: FAILED: bench/noise_pairs.sh (see above)"
    fi
    rm -rf "$NOISE_ROOT/pairs"
}

# bench_pymap: the wsrun Python package against multiprocessing
# (bench/python_map.sh, its own tables: whole-process medians that
# report.py does not read); quick mode passes PYBENCH_QUICK=1.
bench_pymap() {
    say "== the wsrun Python package against multiprocessing (bench/python_map.sh)"
    if BUILD=$BUILD PYBENCH_QUICK=$QUICK bench/python_map.sh >"$TMP/python_map.txt"; then
        sed 's/^/  /' "$TMP/python_map.txt" >&2
    else
        FAILED_RUNS=$((FAILED_RUNS + 1))
        say "bench: FAILED: bench/python_map.sh (see above)"
    fi
}

bench_read_fill() {
    # The read and fill peers come from another part of the project; each
    # runs when present, else the suite says what it skipped.
    local img="$TMP/images" j f missing="" pattern npy="$TMP/fill.npy" big="$TMP/big.npy"
    for f in read_serial.c fill_omp.c seed_example3.py memset_bench.c; do
        [ -f "bench/peers/$f" ] || missing="$missing $f"
    done
    [ -n "$missing" ] && say "bench: absent from bench/peers:$missing (those comparisons are skipped)"
    [ -f "$BDIR/plugins/read.so" ] && [ -f "$BDIR/plugins/fill.so" ] || {
        say "bench: read.so or fill.so not built: read and fill skipped"
        return 0
    }
    mkdir -p "$img" && ws --plugin noise --count "$NOISE_COUNT" -q -o "prefix=$img/image_" ||
        die "cannot write the noise images for read and fill"
    pattern="$img/image_%d.png"
    WALL_ONLY=1

    say "== read $NOISE_COUNT noise PNGs (decode and checksum; whole process)"
    for j in $JOBS; do
        add_case "$NOISE_COUNT" wsrun "$j" "" "" ws --plugin read -j "$j" -q -o "input=$pattern" \
            -o "output=$TMP/manifest.csv"
    done
    [ -x "$PEERS/read_serial" ] &&
        add_case "$NOISE_COUNT" read_serial 1 "" "" "$PEERS/read_serial" "$pattern" "$NOISE_COUNT"
    run_cases read

    say "== fill one array from $NOISE_COUNT noise PNGs (whole process)"
    for j in $JOBS; do
        add_case "$NOISE_COUNT" wsrun "$j" "" "rm -f '$npy'" ws --plugin fill -j "$j" -q \
            -o "input=$pattern" -o "output=$npy"
        [ -x "$PEERS/fill_omp" ] &&
            add_case "$NOISE_COUNT" omp-for "$j" "" "rm -f '$npy'" env OMP_NUM_THREADS="$j" \
                "$PEERS/fill_omp" "$pattern" "$NOISE_COUNT" "$npy"
    done
    [ -f bench/peers/seed_example3.py ] &&
        add_case "$NOISE_COUNT" python-pool "$NCPU" "" "" "$PY" bench/peers/seed_example3.py "$img"
    run_cases fill

    say "== fill $FILL_MIB MiB from the noise source (1024x1024 images) vs memset (whole process)"
    for j in $JOBS; do
        add_case "${FILL_MIB}MiB" wsrun "$j" "" "rm -f '$big'" ws --plugin fill -j "$j" -q \
            --count "$FILL_MIB" -o source=noise -o width=1024 -o height=1024 -o "output=$big"
    done
    [ -x "$PEERS/memset_bench" ] &&
        add_case "${FILL_MIB}MiB" memset 1 "" "rm -f '$big'" "$PEERS/memset_bench" \
            "$((FILL_MIB * 1048576))" "$big"
    run_cases fill-noise
    rm -rf "$img" "$npy" "$big"
    WALL_ONLY=0
}

# ------------------------------------------------------------ main
START=$EPOCHREALTIME
if [ "$PREBUILT" = 1 ]; then
    check_prebuilt
else
    build_peers
fi
[ "$BUILD_ONLY" = 1 ] && { say "bench: peers built into $PEERS"; exit 0; }
check_python
# gcc_version / tbb_version: as meta.txt records them.  Prebuilt binaries
# say which compiler made them; the libtbb they run with is the one the
# dynamic linker finds, whatever dpkg knows of.
gcc_version() {
    if [ "$PREBUILT" = 1 ]; then
        local v
        v=$(readelf -p .comment "$WSRUN" 2>/dev/null | sed -n 's/.*GCC: //p' | head -1)
        echo "${v:-unknown} (prebuilt)"
    else
        gcc -dumpfullversion
    fi
}
tbb_version() {
    if [ "$PREBUILT" = 1 ]; then
        local t
        for t in "$PEERS"/*_tbb; do
            [ -x "$t" ] || continue
            ldd "$t" 2>/dev/null | awk '$1 ~ /^libtbb\.so/ {print $1 ($3 == "not" ? " not found" : " from " $3); exit}'
            return 0
        done
    else
        dpkg-query -W -f='${Version}' libtbb-dev 2>/dev/null
    fi
}
libomp_version() { # LLVM's OpenMP runtime the *_llvm_omp peers load
    if [ "$PREBUILT" = 1 ]; then
        ldd "$PEERS/fib_llvm_omp" 2>/dev/null | awk '$1 ~ /^libomp\.so/ {print $1 ($3 == "not" ? " not found" : " from " $3); exit}'
    else
        dpkg-query -W -f='${Version}' libomp-dev 2>/dev/null
    fi
}
if [ "$APPEND" != 1 ]; then
    : >"$RAW"
    : >"$META"
fi
{
    echo "mode=$MODE"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    [ -n "${BENCH_MACHINE:-}" ] && echo "machine=$(echo $BENCH_MACHINE)"
    echo "cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cpus=$NCPU"
    echo "kernel=$(uname -r)"
    echo "gcc=$(gcc_version)"
    echo "tbb=$(tbb_version)"
    echo "libomp=$(libomp_version)"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "reps=$REPS"
    echo "scaling_reps=$((REPS * SCALING_REPS_FACTOR))"
    echo "jobs=$(echo $JOBS)"
    [ -n "${BENCH_ONLY:-}" ] && echo "only=$(echo $ONLY)"
    [ -n "${BENCH_PYTHON:-}" ] && echo "python=$PY"
    [ "$PREBUILT" = 1 ] && echo "prebuilt=1"
} >>"$META"
load1=$(cut -d' ' -f1 /proc/loadavg)
say "bench: $MODE mode on $(sed -n 's/^cpu_model=//p' "$META" | tail -1), $NCPU CPUs, -j $(echo $JOBS); load average $load1"
awk -v l="$load1" 'BEGIN{exit !(l > 0.5)}' &&
    say "bench: WARNING: the machine is busy (load $load1): timings will be noisy"

# The wake-up microbenchmark (bench/wake_latency.c, built by make bench):
# published work to a parked worker running it; its line goes to meta.txt.
if [ -x "$BDIR/bench/wake_latency" ]; then
    line=$("$BDIR/bench/wake_latency" "$([ "$QUICK" = 1 ] && echo 100 || echo 300)") ||
        die "the wake-up microbenchmark failed"
    say "bench: $line"
    echo "wake_latency=${line#wake_latency: }" >>"$META"
fi
wants fib && bench_fib
wants nqueens && bench_nqueens
wants uts && bench_uts
wants spin && bench_spin
wants empty && bench_empty
wants longtask && bench_longtask
wants noise && bench_noise
wants readfill && bench_read_fill
if wants python; then # its own tables (bench/python.sh), quick in quick mode
    BUILD=$BUILD PYBENCH_QUICK=$QUICK bench/python.sh || {
        say "bench: bench/python.sh failed"
        FAILED_RUNS=$((FAILED_RUNS + 1))
    }
fi
wants pymap && bench_pymap

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
echo "elapsed_s=$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}')" >>"$META"
if [ "${BENCH_NO_REPORT:-0}" = 1 ]; then
    say "bench: raw runs in $RAW, machine in $META (BENCH_NO_REPORT=1: no report)"
else
    $REPORT_PY bench/report.py --raw "$RAW" --meta "$META" --mode "$MODE" \
        ${BENCH_LABEL:+--label "$BENCH_LABEL"} || die "report failed"
fi
if [ "$FAILED_RUNS" != 0 ]; then
    say "bench: $FAILED_RUNS runs gave a wrong result or failed (see above)"
    exit 1
fi
exit 0

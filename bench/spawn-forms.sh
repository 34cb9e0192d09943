#!/usr/bin/env bash
# spawn-forms.sh - what a spawn costs in each form of wsrun's fork-join, in
# one run: fib(n) at -j1 through the plain calls (ws_frame_new / ws_spawn /
# WS_SYNC), the hand-written _at calls and the typed task macros
# (WS_TASK_1 / WS_SPAWN / WS_AWAIT), beside the serial C fib built with the
# plugins' flags (bench/peers/fib_serial.c).  Each figure is the minimum
# over REPS runs (default 7) of the plugin's cpu_s (end of init to start
# of finish) and of the serial peer's cpu_s (the computation alone): CPU
# time, so other programs sharing the machine inflate it less than wall
# time.  ns per spawn = the plugin's time / spawns.
# Then the fork-join tutorial's tree sum (docs/tutorial/treesum.c, two
# spawned children per node) at -j1, depth TREE_DEPTH (default 21): the
# minimum busy time of its one index (--stats) against the serial
# recursion (bench/peers/treesum_serial.c), both wall time.
# Usage: bench/spawn-forms.sh [n ...]   (default: 30 35).  Needs `make all`;
# writes only under $BUILD/bench/.  Short: about 10 s.
set -eu
BUILD=${WSRUN_BUILD:-build}
REPS=${REPS:-7}
SERIAL=$BUILD/bench/fib_serial_forms
TREE_DEPTH=${TREE_DEPTH:-21}
mkdir -p "$BUILD/bench/treesum"
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Iplugins -Ibench/peers"
gcc $CFLAGS bench/peers/fib_serial.c -o "$SERIAL"
gcc $CFLAGS bench/peers/treesum_serial.c -o "$BUILD/bench/treesum_serial"
gcc $CFLAGS -fPIC -shared docs/tutorial/treesum.c -o "$BUILD/bench/treesum/treesum.so"
W="$BUILD/wsrun -p $BUILD/plugins/fib.so -j1"
best() { sort -g | head -1; }
echo "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for n in ${@:-30 35}; do
    spawns=$($W -o n="$n" -o timing=on | awk '/^spawns/ {print $2}')
    serial=$(for r in $(seq "$REPS"); do "$SERIAL" n="$n" | awk '/^cpu_s/ {print $2}'; done | best)
    printf 'fib(%s): %s spawns, serial %.4f s\n' "$n" "$spawns" "$serial"
    for form in plain at macro; do
        t=$(for r in $(seq "$REPS"); do $W -o n="$n" -o form=$form -o timing=on | awk '/^cpu_s/ {print $2}'; done | best)
        awk -v f="$form" -v t="$t" -v sp="$spawns" -v s="$serial" \
            'BEGIN { printf "  %-5s %.4f s  %5.2f ns/spawn  T1/Ts %.2f\n", f, t, t / sp * 1e9, t / s }'
    done
done

nodes=$(( (2 << TREE_DEPTH) - 1 ))
spawns=$(( nodes - 1 )) # every node but the root is spawned
serial=$(for r in $(seq "$REPS"); do "$BUILD/bench/treesum_serial" depth="$TREE_DEPTH" |
    awk '/^time_s/ {print $2 * 1000}'; done | best)
tree=$(for r in $(seq "$REPS"); do "$BUILD/wsrun" -p "$BUILD/bench/treesum/treesum.so" -j1 \
    -o depth="$TREE_DEPTH" --stats 2>&1 | awk '$1 == "total" {print $6}'; done | best)
awk -v n="$nodes" -v sp="$spawns" -v s="$serial" -v t="$tree" -v d="$TREE_DEPTH" 'BEGIN {
    printf "tree sum, depth %d: %d nodes, %d spawns, serial %.1f ms (%.2f ns/node)\n", d, n, sp, s, s / n * 1e6
    printf "  macro %.1f ms  %5.2f ns/node  %5.2f ns/spawn  T1/Ts %.2f\n", t, t / n * 1e6, t / sp * 1e6, t / s }'

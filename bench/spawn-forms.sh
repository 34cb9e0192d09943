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
# Usage: bench/spawn-forms.sh [n ...]   (default: 30 35).  Needs `make all`;
# writes only $BUILD/bench/fib_serial_forms.  Short: about 5 s at n=35.
set -eu
BUILD=${WSRUN_BUILD:-build}
REPS=${REPS:-7}
SERIAL=$BUILD/bench/fib_serial_forms
mkdir -p "$BUILD/bench"
gcc -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Iplugins -Ibench/peers bench/peers/fib_serial.c \
    -o "$SERIAL"
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

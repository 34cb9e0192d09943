#!/usr/bin/env bash
# cxx-plugin.sh - C++ plugins work (issue 14): tests/plugins/cxx/cxxfork.cpp,
# built by the Makefile with g++ and clang++ for C++11, 14, 17, 20 (and 2b)
# (-Wall -Werror), loads in wsrun and computes fib through the plain and _at calls
# and the typed task macros at -j1..4.  Run from the repository root;
# needs $WSRUN_BUILD.  Writes nothing (its scratch folder stays empty).
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start cxx-plugin cxx

builds="gxx11 gxx14 gxx17 gxx20 clangxx11 clangxx14 clangxx17 clangxx20 clangxx2b"
for b in $builds; do
    so=$FIXTURES/cxxfork_$b.so
    [ -f "$so" ] || { bad "$so not built (make tests-build)"; continue; }
    for mode in plain at macro; do
        for j in 1 2 4; do
            out=$("$W" -p "$so" -j $j -o n=23 -o mode=$mode 2>&1)
            rc=$?
            if [ $rc -eq 0 ] && grep -qx "cxxfork_$b (C++ [0-9]*): fib(23) = 28657" <<<"$out"; then ok
            else bad "cxxfork_$b mode=$mode -j$j: status $rc, printed: $out"; fi
        done
    done
done
# The descriptor keeps C linkage in C++ (WS_PLUGIN_DEFINE says extern "C").
if nm -D "$FIXTURES/cxxfork_gxx17.so" | grep -qw 'T ws_plugin_descriptor'; then ok
else bad "cxxfork_gxx17.so does not export ws_plugin_descriptor unmangled"; fi

cli_finish

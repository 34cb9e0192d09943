#!/usr/bin/env bash
# embed.sh - libwsrun end to end (make test-embed, part of make test):
# installs into a temporary prefix, takes the example program out of
# docs/embedding.md (so the page cannot drift from what works), builds it
# with nothing but `pkg-config libwsrun` against the installed copy -
# shared, static, and as C++ - runs each and checks the numbers it prints;
# checks libwsrun.pc and what make uninstall leaves; loads libwsrun.so
# RTLD_LOCAL (as Python loads an extension's libraries) and runs plugins
# opened by name with ws_plugin_open (tests/embed_local.c).  Run from the
# repository root; needs $WSRUN_BUILD.  Writes only into a fresh folder
# under /tmp, which it removes.  Not under tests/cli/: those also run
# against the sanitizer builds, where an installed library means nothing new.
set -u

. "$(dirname "$0")/cli_lib.bash"
cli_start embed embed relative
[ -f include/wsrun_embed.h ] || { echo "embed: run me from the repository root"; exit 2; }
ROOT=$(pwd)

PREFIX=$SCRATCH/prefix
if ! make -s --no-print-directory BUILD="$BUILD" PREFIX="$PREFIX" install >"$SCRATCH/make.log" 2>&1; then
    bad "make install failed:"; sed 's/^/  /' "$SCRATCH/make.log"
    cli_finish; exit 1
fi
VERSION=$(sed -n 's/^#define WS_VERSION "\(.*\)"/\1/p' include/wsrun.h)
check "libwsrun.so.$VERSION installed" test -f "$PREFIX/lib/libwsrun.so.$VERSION"
check "libwsrun.so.1 links to it" test "$(readlink "$PREFIX/lib/libwsrun.so.1")" = "libwsrun.so.$VERSION"
check "libwsrun.so links to libwsrun.so.1" test "$(readlink "$PREFIX/lib/libwsrun.so")" = libwsrun.so.1
check "libwsrun.a installed" test -f "$PREFIX/lib/libwsrun.a"
check "wsrun_embed.h installed verbatim" cmp -s include/wsrun_embed.h "$PREFIX/include/wsrun_embed.h"
soname=$(readelf -d "$PREFIX/lib/libwsrun.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "soname is libwsrun.so.1 (got '$soname')" test "$soname" = libwsrun.so.1

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
flags=$(pkg-config --cflags --libs libwsrun 2>&1 | sed 's/ *$//')
check "pkg-config --cflags --libs libwsrun (got '$flags')" \
    test "$flags" = "-I$PREFIX/include -pthread -L$PREFIX/lib -lwsrun"
sflags=$(pkg-config --static --libs libwsrun 2>&1 | sed 's/ *$//')
check "pkg-config --static --libs libwsrun (got '$sflags')" \
    test "$sflags" = "-L$PREFIX/lib -lwsrun -Wl,--export-dynamic -ldl -lm -pthread"
check "libwsrun.pc names the plugin folder" \
    test "$(pkg-config --variable=plugindir libwsrun)" = "$PREFIX/lib/wsrun"
check "wsrun.pc stays header-only (no Libs)" test -z "$(pkg-config --libs wsrun)"
case "$flags $sflags" in
*"$ROOT"*) bad "pkg-config names the source tree: $flags $sflags" ;;
*) ok ;;
esac

# The example, from the page: the fenced block after its marker.
awk '/^<!-- example: example.c -->$/ { want = 1; next }
     want && /^```/ { if (inside) exit; inside = 1; next }
     inside { print }' docs/embedding.md >"$SCRATCH/example.c"
check "docs/embedding.md has the example (40+ lines)" test "$(wc -l <"$SCRATCH/example.c")" -ge 40
awk '/^<!-- example: builtin.c -->$/ { want = 1; next }
     want && /^```/ { if (inside) exit; inside = 1; next }
     inside { print }' docs/embedding.md >"$SCRATCH/builtin.c"
check "docs/embedding.md has the built-in plugin example" test "$(wc -l <"$SCRATCH/builtin.c")" -ge 20

# expect_output NAME PROGRAM: runs it and checks every line but the timings.
expect_output() {
    local out rc
    out=$("$2" 2>"$SCRATCH/stderr")
    rc=$?
    check "$1 exits 0 (status $rc; stderr: $(head -3 "$SCRATCH/stderr"))" test $rc -eq 0
    check "$1: the fork-join sums" grep -qx 'for: 1000 indices done, 0 failed, 2 workers, total 166666500' <<<"$out"
    check "$1: the stats line" grep -qE '^for: [0-9]+ tasks, [0-9]+ steals, [0-9.]+ ms$' <<<"$out"
    check "$1: the descriptor's finish" grep -qx 'squares: sum of 3\*i\*i for i < 100 = 985050' <<<"$out"
    check "$1: the descriptor's status" grep -qx 'plugin: status 0, 100 indices done' <<<"$out"
    check "$1: the refused option" \
        grep -qx "bad option: status 2: option 'scale': expected a whole number, got 'abc'" <<<"$out"
    [ "$(wc -l <<<"$out")" -eq 5 ] && ok || bad "$1 printed $(wc -l <<<"$out") lines, not 5: $out"
}

WARN="-Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers"
cp tests/embed_local.c "$SCRATCH/" || exit 2
BUILD_ABS=$(cd "$BUILD" && pwd) || exit 2
cd "$SCRATCH" || exit 2 # nothing of the source tree is at hand from here
LIBDIR=$(pkg-config --variable=libdir libwsrun)
# shared, as the page builds it
if cc -std=c11 -O2 $WARN example.c $(pkg-config --cflags --libs libwsrun) \
    -Wl,-rpath,"$LIBDIR" -o example-shared 2>"$SCRATCH/cc.log"; then
    ok
    lib=$(ldd ./example-shared | sed -n 's/^\s*libwsrun\.so\.1 => \(\S*\) .*/\1/p')
    check "the shared example loads the installed library (got '$lib')" \
        test "$lib" = "$PREFIX/lib/libwsrun.so.1"
    expect_output "shared example" ./example-shared
else
    bad "the example does not build against the installed libwsrun.so:"; sed 's/^/  /' "$SCRATCH/cc.log"
fi
# static
if cc -std=c11 -O2 $WARN example.c $(pkg-config --cflags libwsrun) \
    -Wl,-Bstatic $(pkg-config --static --libs libwsrun) -Wl,-Bdynamic -o example-static 2>"$SCRATCH/cc.log"; then
    ok
    check "the static example needs no libwsrun.so" sh -c '! readelf -d example-static | grep -q libwsrun'
    expect_output "static example" ./example-static
else
    bad "the example does not build against the installed libwsrun.a:"; sed 's/^/  /' "$SCRATCH/cc.log"
fi
# C++: the header's extern "C" and the typed tasks
if g++ -std=c++20 -O2 $WARN -Wpedantic -x c++ example.c $(pkg-config --cflags --libs libwsrun) \
    -Wl,-rpath,"$LIBDIR" -o example-cxx 2>"$SCRATCH/cc.log"; then
    ok
    expect_output "C++ example" ./example-cxx
else
    bad "the example does not build as C++20:"; sed 's/^/  /' "$SCRATCH/cc.log"
fi
# A built-in plugin run in-process (issue 23 item 11), shared and static,
# built as the page builds it: the static one only from pkg-config's flags.
PLUGDIR=$(pkg-config --variable=plugindir libwsrun)
for kind in shared static; do
    if [ $kind = shared ]; then
        cc -std=c11 -O2 $WARN builtin.c $(pkg-config --cflags --libs libwsrun) \
            -Wl,-rpath,"$LIBDIR" -o builtin-$kind 2>"$SCRATCH/cc.log"
    else
        cc -std=c11 -O2 $WARN builtin.c $(pkg-config --cflags libwsrun) \
            -Wl,-Bstatic $(pkg-config --static --libs libwsrun) -Wl,-Bdynamic -o builtin-$kind 2>"$SCRATCH/cc.log"
    fi
    if [ $? -ne 0 ]; then
        bad "builtin.c does not build ($kind):"; sed 's/^/  /' "$SCRATCH/cc.log"; continue
    fi
    out=$(./builtin-$kind "$PLUGDIR/fib.so" n=20 2>&1)
    check "built-in fib by path in-process ($kind) printed '$out'" test "$out" = "fib(20) = 6765"
done
# By name: the shared program finds the installed plugin folder beside the
# library; the static one (libwsrun inside the executable) looks beside
# itself, so it needs WSRUN_PLUGIN_PATH.
out=$(./builtin-shared fib n=20 2>&1)
check "built-in fib by name beside the installed libwsrun.so printed '$out'" test "$out" = "fib(20) = 6765"
out=$(WSRUN_PLUGIN_PATH=$PLUGDIR ./builtin-static fib n=20 2>&1)
check "built-in fib by name on WSRUN_PLUGIN_PATH (static) printed '$out'" test "$out" = "fib(20) = 6765"
out=$(./builtin-static fib n=20 2>&1)
check "the static program looks beside itself (got '$out')" \
    test "$out" = "plugin 'fib' not found (looked in: $SCRATCH/plugins, $SCRATCH/../lib/wsrun)"

# libwsrun.so loaded RTLD_LOCAL (tests/embed_local.c): its symbols are not
# global until ws_plugin_open promotes them, and the plugin's init and
# run_one then reach libwsrun's ws_* functions.
if cc -std=c11 -O2 $WARN embed_local.c $(pkg-config --cflags libwsrun) -ldl -o embed-local \
    2>"$SCRATCH/cc.log"; then
    ok
    check "embed_local does not link libwsrun" sh -c '! readelf -d embed-local | grep -q libwsrun'
    for lib in "$LIBDIR/libwsrun.so.1" "$BUILD_ABS/libwsrun.so.1"; do
        out=$(./embed-local "$lib" empty 1000 2>&1)
        check "RTLD_LOCAL $lib: symbols local before the open ($out)" \
            grep -qx 'before: ws_opt_int local' <<<"$out"
        check "RTLD_LOCAL $lib: global after it" grep -qx 'after: ws_opt_int global' <<<"$out"
        check "RTLD_LOCAL $lib: empty by name ran 1000 indices" \
            grep -qx 'run: status 0, 1000 indices done' <<<"$out"
        out=$(./embed-local "$lib" fib - n=20 2>&1)
        check "RTLD_LOCAL $lib: fib by name ($out)" grep -qx 'fib(20) = 6765' <<<"$out"
    done
    out=$(./embed-local "$LIBDIR/libwsrun.so.1" nosuch 3 2>&1)
    check "RTLD_LOCAL: a missing name lists the folders beside the library ($out)" \
        grep -qx "open: plugin 'nosuch' not found (looked in: $LIBDIR/plugins, $LIBDIR/../lib/wsrun)" <<<"$out"
    out=$(./embed-local "$LIBDIR/libwsrun.so.1" "$LIBDIR/libwsrun.so.1" 3 2>&1)
    check "RTLD_LOCAL: a library that is not a plugin is refused ($out)" \
        grep -qx "open: $LIBDIR/libwsrun.so.1 is not a wsrun plugin: it has no ws_plugin_descriptor symbol" <<<"$out"
else
    bad "embed_local.c does not build:"; sed 's/^/  /' "$SCRATCH/cc.log"
fi

cd "$ROOT" || exit 2

make -s --no-print-directory BUILD="$BUILD" PREFIX="$PREFIX" uninstall >"$SCRATCH/make.log" 2>&1
check "make uninstall succeeds" test $? -eq 0
left=$(cd "$PREFIX" && find . ! -type d | sed 's|^\./||' | tr '\n' ' ')
check "uninstall leaves no file or link (left: $left)" test -z "$left"

cli_finish

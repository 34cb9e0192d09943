#!/usr/bin/env bash
# install.sh - `make install` / `make uninstall` and the plugin SDK, end to
# end: installs into a temporary prefix, checks the exact file list and the
# pkg-config file, builds plugins/template out of tree with its own
# Makefile against the installed header only, runs it and the built-in
# plugins through the installed wsrun with no WSRUN_PLUGIN_PATH, checks the
# tutorial docs/plugins.md against the installed wsrun (tests/py/check_doc.py),
# imports the installed wsrun Python package and runs wsrun.map with it
# (and wsrun.run, fill and read on the installed plugins),
# then uninstalls and checks nothing is left.  Also DESTDIR-staged
# installs (one for the default PREFIX: the package where python3 looks).
# (The embedding library itself is built against and run by tests/embed.sh.)
# Run from the repository root (`make test-cli` does); needs $WSRUN_BUILD.
# Writes only into a fresh folder under /tmp, which it removes.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start install install relative
[ -x "$BUILD/wsrun" ] || { echo "install: $BUILD/wsrun not built"; exit 2; }
[ -f include/wsrun.h ] || { echo "install: run me from the repository root"; exit 2; }

PREFIX=$SCRATCH/usr
VERSION=$(sed -n 's/^#define WS_VERSION "\(.*\)"/\1/p' include/wsrun.h)
# What the Makefile builds: tasks/*.c and plugins/*.c, one .so each.
PLUGIN_FILES=$(for f in tasks/*.c plugins/*.c; do basename "$f" .c; done | sed 's/$/.so/')
# The Python package: PREFIX/lib/python3.X/site-packages/wsrun for a PREFIX
# other than /usr/local (mk/install.mk), its .py/.pyi files and the extension.
PYREL=$(/usr/bin/python3 -c "import sysconfig as s; print(s.get_path('platlib', 'posix_prefix', vars={'base': '', 'platbase': ''}).lstrip('/'))")
PY_FILES=$(cd python/wsrun && ls *.py *.pyi; echo "_wsrun$(/usr/bin/python3-config --extension-suffix)"
    tag=$(/usr/bin/python3 -c 'import sys; print(sys.implementation.cache_tag)')
    for f in *.py; do echo "__pycache__/${f%.py}.$tag.pyc"; done)

# wsrun-mpi is installed only after `make mpi` or with MPI=1, which leave
# a stamp; the copy `make test` builds for its tests is not.  The stamp is
# named here, so this test neither needs nor touches the build's own.
STAMP=$SCRATCH/wsrun-mpi.wanted
if [ -x "$BUILD/wsrun-mpi" ]; then
    make -s --no-print-directory BUILD="$BUILD" PREFIX="$SCRATCH/nompi" MPI_STAMP="$STAMP" \
        install >"$SCRATCH/make.log" 2>&1
    check "without make mpi's stamp, make install installs no wsrun-mpi" \
        test ! -e "$SCRATCH/nompi/bin/wsrun-mpi" -a -x "$SCRATCH/nompi/bin/wsrun"
    rm -rf "$SCRATCH/nompi"
    touch "$STAMP" # as `make mpi` leaves it
fi

# ------------------------------------------------------------ install
if ! make -s --no-print-directory BUILD="$BUILD" PREFIX="$PREFIX" MPI_STAMP="$STAMP" install >"$SCRATCH/make.log" 2>&1; then
    bad "make install failed:"; sed 's/^/  /' "$SCRATCH/make.log"
    echo "install: $passed passed, $failed failed"; exit 1
fi
{
    echo bin/wsrun
    echo include/wsrun.h
    echo include/wsrun_embed.h
    echo "lib/libwsrun.so.$VERSION"
    echo lib/libwsrun.a
    echo lib/pkgconfig/libwsrun.pc
    for p in $PLUGIN_FILES; do echo "lib/wsrun/$p"; done
    echo lib/pkgconfig/wsrun.pc
    echo share/man/man1/wsrun.1
    echo share/man/man7/wsrun-plugin.7
    for p in $PY_FILES; do echo "$PYREL/wsrun/$p"; done
    if [ -x "$BUILD/wsrun-mpi" ]; then # with the stamp of `make mpi`
        echo bin/wsrun-mpi
        echo share/man/man1/wsrun-mpi.1
    fi
} | sort >"$SCRATCH/want.txt"
(cd "$PREFIX" && find . -type f | sed 's|^\./||' | sort) >"$SCRATCH/got.txt"
if diff -u "$SCRATCH/want.txt" "$SCRATCH/got.txt" >"$SCRATCH/diff.txt"; then ok
else bad "installed files differ from the expected list:"; sed 's/^/  /' "$SCRATCH/diff.txt"; fi
check "wsrun is executable" test -x "$PREFIX/bin/wsrun"
check "installed header is the source header" cmp -s include/wsrun.h "$PREFIX/include/wsrun.h"
check "man pages installed verbatim" cmp -s docs/man/wsrun.1 "$PREFIX/share/man/man1/wsrun.1"

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
cflags=$(pkg-config --cflags wsrun 2>&1 | sed 's/ *$//')
check "pkg-config --cflags wsrun gives the installed include folder (got '$cflags')" \
    test "$cflags" = "-I$PREFIX/include"
modversion=$(pkg-config --modversion wsrun 2>&1)
check "pkg-config --modversion is WS_VERSION $VERSION (got '$modversion')" test "$modversion" = "$VERSION"
plugindir=$(pkg-config --variable=plugindir wsrun 2>&1)
check "pkg-config plugindir (got '$plugindir')" test "$plugindir" = "$PREFIX/lib/wsrun"
check "man finds the installed wsrun(1)" test "$(MANPATH=$PREFIX/share/man man -w wsrun 2>/dev/null)" = "$PREFIX/share/man/man1/wsrun.1"
check "man finds the installed wsrun-plugin(7)" test "$(MANPATH=$PREFIX/share/man man -w 7 wsrun-plugin 2>/dev/null)" = "$PREFIX/share/man/man7/wsrun-plugin.7"
if [ -x "$BUILD/wsrun-mpi" ]; then
    check "man finds the installed wsrun-mpi(1)" test "$(MANPATH=$PREFIX/share/man man -w wsrun-mpi 2>/dev/null)" = "$PREFIX/share/man/man1/wsrun-mpi.1"
    out=$("$PREFIX/bin/wsrun-mpi" --plugin spin --count 10 -q 2>&1)
    check "installed wsrun-mpi runs (one rank, no launcher) with the installed spin (got '$out')" \
        grep -q "^spin(uniform) = 10 tasks" <<<"$out"
fi

# ------------------------------------------------------------ the Python package
check "make install names the PYTHONPATH to set for this PREFIX" \
    grep -q "set PYTHONPATH=$PREFIX/$PYREL to import wsrun" "$SCRATCH/make.log"
# An instrumented extension cannot load into the uninstrumented python3
# (ASan wants its runtime first): under make test-asan and test-tsan-cli
# the package's files are checked above, not imported.
if ! grep -qaE '__(a|t)san_init' "$BUILD/wsrun"; then
    out=$(cd "$SCRATCH" && PYTHONPATH=$PREFIX/$PYREL env -u WSRUN_PLUGIN_PATH /usr/bin/python3 -c '
import wsrun
print(wsrun.__file__)
print(wsrun.map(lambda x: -x, [1, 2, 3], jobs=2))
print([l.split()[-1] for l in open("/proc/self/maps") if "libwsrun" in l][0])
s = wsrun.run("noise", 4, jobs=2, options={"prefix": "py_"})
a = wsrun.fill("py_%d.png")
print(s["done"], a.shape, a.dtype, len(wsrun.read("py_*.png")))
try:
    wsrun.run("nosuch")
except wsrun.RunError as e:  # the folders it looked in, normalised
    import os, re
    dirs = re.search(r"looked in: (.*)\)$", str(e)).group(1).split(", ")
    print(", ".join(os.path.normpath(d) for d in dirs))' 2>&1)
    check "the installed package imports from the install (got '$out')" \
        test "$(sed -n 1p <<<"$out")" = "$PREFIX/$PYREL/wsrun/__init__.py"
    check "the installed wsrun.map runs (got '$out')" test "$(sed -n 2p <<<"$out")" = "[-1, -2, -3]"
    check "the installed extension uses the installed libwsrun (got '$out')" \
        test "$(sed -n 3p <<<"$out")" = "$PREFIX/lib/libwsrun.so.$VERSION"
    check "the installed wsrun.run, fill and read run the installed plugins (got '$out')" \
        test "$(sed -n 4p <<<"$out")" = "4 (4, 100, 100) uint8 4"
    check "the installed wsrun.run looks beside the installed libwsrun (got '$out')" \
        test "$(sed -n 5p <<<"$out")" = "$PREFIX/lib/plugins, $PREFIX/lib/wsrun"
fi

# ------------------------------------------------------------ installed wsrun finds its plugins
W=$PREFIX/bin/wsrun
mkdir -p "$SCRATCH/run" && cd "$SCRATCH/run" || exit 2
loaded=$("$W" --plugin noise --help 2>&1 | sed -n 's/^file: \(.*\) (built for .*/\1/p')
check "installed wsrun loads the installed noise.so (got '$loaded')" \
    test "$(realpath "$loaded" 2>&1)" = "$(realpath "$PREFIX/lib/wsrun/noise.so")"
check "installed wsrun runs noise with no WSRUN_PLUGIN_PATH" "$W" --plugin noise --count 3 -q
check "noise wrote its 3 images" test -s image_0.png -a -s image_2.png -a ! -e image_3.png
list=$("$W" --list-plugins 2>&1)
check "--list-plugins lists the install folder first" test "$(echo "$list" | head -1)" = "$PREFIX/lib/wsrun:"
check "--list-plugins lists noise from the install" grep -q "^  noise  " <<<"$list"

# ------------------------------------------------------------ the template, out of tree
cd - >/dev/null || exit 2
mkdir -p "$SCRATCH/mytask"
cp plugins/template/template.c plugins/template/Makefile "$SCRATCH/mytask/"
check "template Makefile is two lines" test "$(wc -l <plugins/template/Makefile)" -eq 2
if (cd "$SCRATCH/mytask" && make -s >"$SCRATCH/tmake.log" 2>&1); then ok
else bad "template does not build against the installed SDK:"; sed 's/^/  /' "$SCRATCH/tmake.log"; fi
out=$(cd "$SCRATCH/mytask" && "$W" --plugin ./template.so --count 1000 -o scale=3 2>&1)
check "template runs through the installed wsrun (got '$out')" \
    test "$out" = "template: total 1498500 over 1000 indices"
out=$(cd "$SCRATCH/mytask" && "$W" --plugin ./template.so -j 3 2>&1)
check "template chooses its count (got '$out')" test "$out" = "template: total 4950 over 100 indices"
# The template also compiles cleanly under the project's strictest flags.
check "template builds with -Wall -Wextra -Werror" cc -std=c11 -Wall -Wextra -Werror -Wshadow \
    -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
    $(pkg-config --cflags wsrun) -fPIC -shared plugins/template/template.c -o "$SCRATCH/strict.so"

# ------------------------------------------------------------ the tutorial, against the install
mkdir -p "$SCRATCH/tutorial"
cp docs/tutorial/primes.c docs/tutorial/treesum.c "$SCRATCH/tutorial/"
check "tutorial plugin is under 40 lines" test "$(wc -l <docs/tutorial/primes.c)" -lt 40
check "tutorial builds with -Wall -Wextra -Werror" cc -std=c11 -Wall -Wextra -Werror -Wshadow \
    -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
    $(pkg-config --cflags wsrun) -fPIC -shared docs/tutorial/primes.c -o "$SCRATCH/strict.so"
check "fork-join tutorial builds with -Wall -Wextra -Werror" cc -std=c11 -Wall -Wextra -Werror \
    -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
    $(pkg-config --cflags wsrun) -fPIC -shared docs/tutorial/treesum.c -o "$SCRATCH/strict.so"
if PATH=$PREFIX/bin:$PATH /usr/bin/python3 tests/py/check_doc.py docs/plugins.md "$SCRATCH/tutorial" >"$SCRATCH/doc.log" 2>&1; then ok
else bad "docs/plugins.md does not match what the installed wsrun does:"; sed 's/^/  /' "$SCRATCH/doc.log"; fi

# ------------------------------------------------------------ uninstall
make -s --no-print-directory BUILD="$BUILD" PREFIX="$PREFIX" uninstall >"$SCRATCH/make.log" 2>&1
check "make uninstall succeeds" test $? -eq 0
left=$(find "$PREFIX" ! -type d | sed "s|^$PREFIX/||")
check "uninstall leaves no file or link (left: $left)" test -z "$left"
check "uninstall removes lib/wsrun" test ! -e "$PREFIX/lib/wsrun"
check "uninstall leaves shared folders" test -d "$PREFIX/bin" -a -d "$PREFIX/include"

# ------------------------------------------------------------ DESTDIR staging
STAGE=$SCRATCH/stage
make -s --no-print-directory BUILD="$BUILD" DESTDIR="$STAGE" PREFIX=/opt/wsrun MPI_STAMP="$STAMP" install >"$SCRATCH/make.log" 2>&1
check "DESTDIR install succeeds" test $? -eq 0
(cd "$STAGE/opt/wsrun" 2>/dev/null && find . -type f | sed 's|^\./||' | sort) >"$SCRATCH/got.txt"
check "DESTDIR install stages the same files under DESTDIR/PREFIX" cmp -s "$SCRATCH/want.txt" "$SCRATCH/got.txt"
check "staged wsrun.pc names the final prefix" grep -qx "prefix=/opt/wsrun" "$STAGE/opt/wsrun/lib/pkgconfig/wsrun.pc"
check "staged libwsrun.pc names the final prefix" grep -qx "prefix=/opt/wsrun" "$STAGE/opt/wsrun/lib/pkgconfig/libwsrun.pc"
check "staged libwsrun.so.1 links to the staged library" \
    test "$(readlink "$STAGE/opt/wsrun/lib/libwsrun.so.1")" = "libwsrun.so.$VERSION"
make -s --no-print-directory BUILD="$BUILD" DESTDIR="$STAGE" PREFIX=/opt/wsrun uninstall >"$SCRATCH/make.log" 2>&1
check "DESTDIR uninstall leaves no file or link" test -z "$(find "$STAGE" ! -type d)"

# The default PREFIX: the package goes where Debian's python3 looks.
make -s --no-print-directory BUILD="$BUILD" DESTDIR="$STAGE" PREFIX=/usr/local install >"$SCRATCH/make.log" 2>&1
check "DESTDIR install for PREFIX=/usr/local succeeds" test $? -eq 0
SITE=$(/usr/bin/python3 -c "import sysconfig; print(sysconfig.get_path('platlib'))")
check "python3 searches $SITE" /usr/bin/python3 -c "import sys; sys.exit('$SITE' not in sys.path)"
check "for PREFIX=/usr/local the package is in $SITE" test -f "$STAGE$SITE/wsrun/__init__.py"
check "for PREFIX=/usr/local install prints no PYTHONPATH" test -z "$(grep PYTHONPATH "$SCRATCH/make.log")"
make -s --no-print-directory BUILD="$BUILD" DESTDIR="$STAGE" PREFIX=/usr/local uninstall >"$SCRATCH/make.log" 2>&1
check "DESTDIR uninstall for PREFIX=/usr/local leaves no file or link" test -z "$(find "$STAGE" ! -type d)"

cli_finish

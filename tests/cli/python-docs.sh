#!/usr/bin/env bash
# python-docs.sh - docs/python.md stays true: its listings equal the
# scripts in docs/python/, and its sessions (the seed's three examples run
# with the python plugin, and an exception's message) print what it says,
# run by tests/py/check_doc.py in a scratch folder with the scripts copied
# in and build/ first on PATH.  Without python3-opencv, the stand-in
# tests/py/cv2_stub/cv2.py is put on PYTHONPATH; the wsrun package of the
# build (build/python) always is.  Run from the repository
# root; needs $WSRUN_BUILD.  Writes only into its scratch folder.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start python-docs pydocs
[ -f docs/python.md ] || { echo "python-docs: run me from the repository root"; exit 2; }
[ -f "$BUILD/plugins/python.so" ] || { echo "python-docs: $BUILD/plugins/python.so not built"; exit 2; }
# Under ASan/TSan (make test-asan, test-tsan-cli) the uninstrumented
# interpreter and numpy only add noise: the issue exempts Python tests.
if grep -qaE '__(a|t)san_init' "$W"; then # gcc's or clang's sanitizers
    echo "python-docs: skipped in a sanitizer build"
    cli_finish
    exit
fi

mkdir -p "$SCRATCH/work"
cp docs/python/*.py "$SCRATCH/work/"
export PYTHONPATH=$(cd "$BUILD" && pwd)/python${PYTHONPATH:+:$PYTHONPATH}
if ! /usr/bin/python3 -c "import cv2" 2>/dev/null; then
    export PYTHONPATH=$PWD/tests/py/cv2_stub${PYTHONPATH:+:$PYTHONPATH}
fi
if PATH=$BUILD:$PATH /usr/bin/python3 tests/py/check_doc.py docs/python.md "$SCRATCH/work" \
    >"$SCRATCH/check.out" 2>&1; then ok
else bad "docs/python.md is not true:"; sed 's/^/  /' "$SCRATCH/check.out" | head -40; fi

# The Pool versions run too (their output has no fixed order to check
# beyond the counts they print).
# ex2_pool.py asserts, as the seed does, that the CPU count divides 2000.
cpus=$(/usr/bin/python3 -c "import multiprocessing as mp; print(mp.cpu_count())")
if [ $((2000 % cpus)) -eq 0 ]; then
    out=$(cd "$SCRATCH/work" && /usr/bin/python3 ex2_pool.py 2>&1)
    check "ex2_pool.py printed: $out" [ "$out" = "2000 means" ]
fi
out=$(cd "$SCRATCH/work" && /usr/bin/python3 ex3_pool.py 2>&1)
check "ex3_pool.py printed: $out" [ "$out" = "(2000, 100, 100) uint8" ]

cli_finish

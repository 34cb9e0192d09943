#!/usr/bin/env bash
# docs.sh - the manual pages and the documents stay true: groff finds
# nothing to warn about in docs/man/*.[17] (warnings are errors), every long
# option of runtime/cmd/args.c is documented in wsrun(1), the wsrun commands of
# wsrun(1)'s EXAMPLES run and succeed, and the document checker
# (tests/py/check_doc.py) rejects a listing or an output that is not true.
# (docs/plugins.md itself is checked against an installed wsrun by
# install.sh.)  Run from the repository root; needs $WSRUN_BUILD.  Writes
# only into a fresh folder under /tmp, which it removes.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start docs docs
[ -f docs/man/wsrun.1 ] || { echo "docs: run me from the repository root"; exit 2; }

# groff_clean FILE: no warning at all at every warning level (-ww), for a
# terminal (-Tutf8) as man shows it.
groff_clean() {
    local warnings
    warnings=$(groff -man -ww -z -Tutf8 "$1" 2>&1) && [ -z "$warnings" ] && return 0
    echo "$warnings" | sed 's/^/  /'
    return 1
}

for page in docs/man/wsrun.1 docs/man/wsrun-plugin.7 docs/man/wsrun-mpi.1; do
    if groff_clean "$page"; then ok; else bad "groff warns about $page"; fi
    if out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) && [ -z "$out" ]; then ok
    else bad "man -l warns about $page: $out"; fi
done
# Issue 23 item 11.  Every documented plugin build line optimizes (a
# plugin built from the docs ran 1.55x slower without -O2).
build_lines=$(grep -hE '(^|[$ \t])(cc|gcc|g\+\+|c\+\+) .*(-shared|\\-shared)' \
    docs/plugins.md docs/man/wsrun.1 docs/man/wsrun-plugin.7 plugins/template/Makefile)
check "documented plugin build lines exist" test -n "$build_lines"
while IFS= read -r line; do
    case "$line" in
    *"-O2"*) ok ;;
    *) bad "a documented build line lacks -O2: $line" ;;
    esac
done <<<"$build_lines"
# A shared embedding build after make install into /usr/local needs
# ldconfig; the page says so.
check "docs/embedding.md says to run ldconfig after make install" grep -q 'run `ldconfig`' docs/embedding.md
# wsrun-plugin(7) points at no file that make install does not install:
# the positional C++ descriptor is on the page itself.
check "wsrun-plugin(7) shows the positional C++ descriptor" \
    grep -q '^    WS_ABI_MAJOR, WS_ABI_MINOR, (uint32_t)sizeof(ws_plugin), 0,$' docs/man/wsrun-plugin.7
# Running a built-in plugin in-process is documented (tests/embed.sh builds
# and runs the page's example).
check "docs/embedding.md documents plugin files in-process" \
    grep -q '^## Running a plugin file in-process$' docs/embedding.md
check "  built-ins by name through ws_plugin_open" \
    grep -q 'a name (`fib`, `fib.so`) or a path' docs/embedding.md

# The check itself must be able to fail.
printf '.TH X 1\n.SH NAME\nx \\- y\n.BOGUS here\n' >"$SCRATCH/broken.1"
if groff_clean "$SCRATCH/broken.1" >/dev/null; then bad "groff check accepted an undefined macro"; else ok; fi

# Every long option the command line accepts appears in wsrun(1).
options=$(sed -n '/^static const struct option long_options/,/^};/s/^ *{"\([a-z-]*\)",.*/\1/p' runtime/cmd/args.c)
[ "$(echo "$options" | wc -w)" -ge 10 ] || bad "could not read long_options from runtime/cmd/args.c"
for opt in $options; do
    roff=$(echo "--$opt" | sed 's/-/\\\\-/g')
    if grep -qF -- "$(printf '%b' "$roff")" docs/man/wsrun.1; then ok
    else bad "option --$opt of runtime/cmd/args.c is not documented in docs/man/wsrun.1"; fi
done
# ... and every one is in wsrun --help.
help=$("$BUILD/wsrun" --help)
for opt in $options; do
    if grep -qe "--$opt\b" <<<"$help"; then ok; else bad "option --$opt is missing from wsrun --help"; fi
done

# The examples: every "wsrun ..." line between .EX and .EE, roff escapes
# undone, run in a scratch folder with the build's wsrun (a plugin built
# by the reader, ./my.so, is skipped).
sed -n '/^\.EX/,/^\.EE/{/^wsrun /p}' docs/man/wsrun.1 | sed 's/\\-/-/g' >"$SCRATCH/examples.txt"
[ -s "$SCRATCH/examples.txt" ] || bad "no wsrun examples found in wsrun(1)"
mkdir -p "$SCRATCH/ex"
while read -r line; do
    case $line in *./my.so*) continue ;; esac
    if (cd "$SCRATCH/ex" && eval "\"$BUILD/\"$line" >"$SCRATCH/ex.out" 2>&1); then ok
    else bad "wsrun(1) example fails: $line"; sed 's/^/  /' "$SCRATCH/ex.out" | head -5; fi
done <"$SCRATCH/examples.txt"
[ -f "$SCRATCH/ex/image_1999.png" ] && ok || bad "the noise example did not write image_1999.png"
if [ -f "$SCRATCH/ex/fib-trace.json" ] && /usr/bin/python3 tests/py/check_trace.py "$SCRATCH/ex/fib-trace.json" 1 4; then ok
else bad "the fib example's trace is not a valid trace of 1 index on 4 workers"; fi

# The document checker rejects a listing that differs from its file, and
# an output that differs from what the command prints.
cp docs/tutorial/primes.c "$SCRATCH/listed.c"
{
    echo "<!-- file: $SCRATCH/listed.c -->"; echo '```c'; cat docs/tutorial/primes.c; echo '```'
    echo '<!-- session -->'; echo '```console'; echo '$ echo hello'; echo 'hello'
    echo '$ false'; echo '$ echo $?'; echo '1'; echo '```'
} >"$SCRATCH/good.md"
if /usr/bin/python3 tests/py/check_doc.py "$SCRATCH/good.md" "$SCRATCH" >"$SCRATCH/check.out" 2>&1; then ok
else bad "check_doc.py rejects a true document:"; sed 's/^/  /' "$SCRATCH/check.out"; fi
echo "/* changed */" >>"$SCRATCH/listed.c"
sed 's/^hello$/goodbye/' "$SCRATCH/good.md" >"$SCRATCH/bad.md"
/usr/bin/python3 tests/py/check_doc.py "$SCRATCH/bad.md" "$SCRATCH" >"$SCRATCH/check.out" 2>&1
if [ $? -eq 1 ] && grep -q "the listing differs from" "$SCRATCH/check.out" &&
    grep -q '`echo hello` printed:' "$SCRATCH/check.out"; then ok
else bad "check_doc.py missed a false listing or output:"; sed 's/^/  /' "$SCRATCH/check.out"; fi

cli_finish

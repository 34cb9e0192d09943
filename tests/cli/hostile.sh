#!/usr/bin/env bash
# hostile.sh - wsrun against hostile input and misuse, as an outsider
# would try it (issue 23, items 1 and 3-6): a journal name that is a
# symlink, counts over the journal's limit, spin's finish under a tiny
# --shard part, terminal control bytes in paths and plugin text (the
# name, from a file name, in every line that shows it), a path
# too long to print whole, a symlink loop as -o input, inputs that are no
# regular file or far bigger than their image, and Ctrl-C while init lists
# its inputs.  Memory bounds are checked with `ulimit -v` in a subshell,
# the Ctrl-C case waits on a FIFO (no sleeps).  Needs $WSRUN_BUILD with
# plugins built; writes only into a fresh folder under /tmp.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start hostile hostile
cd "$SCRATCH" || exit 2

# one_line FILE: exactly one line of stderr.
one_line() { test "$(wc -l <"$1")" -eq 1; }

# ------------------------------------------------ item 3: journal symlink
echo "keep me" >victim
ln -s victim j.jr
"$W" -p noise -n 2 -q -o prefix=jn_ --journal j.jr 2>err
check "a symlinked --journal is refused with exit 2" test $? -eq 2
check "  the refusal names the link" grep -q -- "--journal j.jr: is a symbolic link" err
check "  in one line" one_line err
check "  the link's target is untouched" test "$(cat victim)" = "keep me"
check "  nothing ran" test ! -e jn_0.png
ln -s absent.jr dangling.jr
"$W" -p noise -n 2 -q -o prefix=jd_ --journal dangling.jr --resume 2>err
check "a dangling symlink as --journal is refused with exit 2" test $? -eq 2
check "  and its target is not created" test ! -e absent.jr

# ------------------------------------------------ item 6: journal limit
"$W" -p spin -n 1099511627777 --shard 0/1099511627777 --journal big.jr 2>err
check "--count over 2^40 with --journal is refused with exit 2, even for a part" test $? -eq 2
check "  the refusal says the limit, the --shard case and the way out" \
    grep -q "limit of 2^40 = 1099511627776 indices.*--shard part.*run without --journal" err
check "  in one line" one_line err
"$W" --help >help.txt 2>&1
check "--help states the journal's 2^40 limit" grep -q "up to 2^40, also under --shard" help.txt

# ------------------------------------------------ item 6: spin under --shard
timeout -k 5 60 "$W" -p spin -q -o iters-per-us=1 -n 9223372036854775807 \
    --shard 0/9223372036854775807 >spin.out 2>err
check "spin's finish covers only its --shard part of 2^63-1 (no hang)" test $? -eq 0
check "  and reports the one task it ran" grep -q "= 1 tasks" spin.out

# ------------------------------------------------ item 4: control bytes
printf '\033]0;PWNED\007\033[2J.png\n' >evil.txt
"$W" -p read -o input=evil.txt >out 2>err
check "a list line with control bytes fails its index (exit 1)" test $? -eq 1
check "  no ESC or BEL reaches the terminal" test "$(tr -dc '\033\007' <err | wc -c)" -eq 0
check "  the path shows escaped, with its list and line" \
    grep -qF 'evil.txt:1: \x1b]0;PWNED\x07\x1b[2J.png: cannot open' err
"$W" -p read -o "input=$(printf 'no\033[31mdir')/" 2>err
check "  also in init's message about -o input" grep -qF 'no\x1b[31mdir' err

# The manifest on a terminal (script(1) gives it one) shows a file name's
# control bytes escaped; written to a file it keeps the name's bytes.
"$W" -p noise -n 1 -q -o width=4 -o height=4 -o prefix=tty_ || bad "noise for the tty case"
EVIL=$(printf 'a\033[2Jb.png')
cp tty_0.png "$EVIL"
if command -v script >/dev/null; then
    script -qec "'$W' -q -p read -o input='$EVIL'" /dev/null >tty.out 2>&1
    check "a manifest on a terminal shows no raw ESC" test "$(tr -dc '\033' <tty.out | wc -c)" -eq 0
    check "  but the name escaped" grep -qF '0,a\x1b[2Jb.png,4,4,1,8,16,' tty.out
else
    echo "hostile: script(1) missing: the terminal manifest case is skipped"
fi
"$W" -q -p read -o input="$EVIL" -o output=m.csv
check "a manifest file keeps the name's bytes" grep -qF "0,$EVIL,4,4" m.csv

# ------------------------------------------------ item 5: reasons kept
LONG=$(head -c 5000 /dev/zero | tr '\0' a)
printf '%s.png\n' "$LONG" >long.txt
"$W" -p read -o input=long.txt 2>err
check "a 5000-byte listed path keeps its reason" grep -q "aaa\.png: cannot open: File name too long$" err
check "  and is shortened in the middle" grep -q "long.txt:1: aaa.*\.\.\.([0-9]* bytes)\.\.\.aaa" err
check "  to one line shorter than 2 KB" test "$(wc -l <err)" -eq 2 -a "$(head -1 err | wc -c)" -lt 2048
"$W" -p read -o "input=$LONG.png" 2>err
check "-o input= with a 5000-byte name says File name too long" grep -q "File name too long$" err
"$W" -p noise -n 1 -q --journal "$LONG.jr" 2>err
check "--journal with a 5000-byte name keeps its reason (exit 2)" \
    grep -q "aaa\.jr: cannot open: File name too long$" err
ln -s loop.png loop.png
"$W" -p read -o input=loop.png 2>err
check "-o input= naming a symlink loop exits 2" test $? -eq 2
check "  and says ELOOP's text" grep -q "input 'loop.png': Too many levels of symbolic links" err

# ------------------------------------------------ item 1: bounded reads
# peak CMD...: "STATUS PEAK_RSS_KB" of CMD (and its children), by getrusage.
peak() {
    /usr/bin/python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:])
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
# The peak of a run that reads nothing (a sanitizer build's is larger).
BASE_KB=$(peak sh -c "'$W' -q -p empty -n 1 >/dev/null 2>&1" | cut -d' ' -f2)
# small "STATUS PEAK" WANT_STATUS: the status, and a peak at most 64 MB
# above that base (the unbounded reads took 300 MB to 2 GB and more).
small() {
    set -- ${1:-none none} "$2"
    test "$1" = "$3" -a "$2" -lt $((BASE_KB + 65536)) 2>/dev/null
}

ln -s /dev/zero z.png
r=$(peak timeout -k 5 60 "$W" -p read -o input=z.png 2>err)
check "a symlink to /dev/zero as the image: exit 1 with little memory ($r)" small "$r" 1
check "  refused as no regular file, naming it" \
    grep -q "z.png: is a character device, not a regular file" err
mkfifo f.png
r=$(peak timeout -k 5 60 "$W" -p fill -o input=f.png -o output=f.npy 2>err)
check "a FIFO as the image is refused at once (fill, exit 2: $r)" small "$r" 2
check "  naming it" grep -q "f.png.*is a FIFO (named pipe), not a regular file" err
truncate -s 2G x.png
r=$(peak "$W" -p read -o input=x.png 2>err)
check "a 2 GB non-PNG is refused from its first bytes ($r)" small "$r" 1
check "  as not a PNG" grep -q "x.png: not a PNG file" err
"$W" -p noise -n 1 -q -o width=10 -o height=10 -o prefix=pad_ || bad "noise for the padded PNG"
truncate -s 300M pad_0.png
r=$(peak "$W" -p read -o input=pad_0.png 2>err)
check "a 10x10 PNG padded to 300 MB is refused from its size ($r)" small "$r" 1
check "  saying what its image can need" \
    grep -q "pad_0.png: file is 314572800 bytes, more than its 10x10 image can need" err
truncate -s 300M raw.jpg
r=$(peak sh -c "'$W' -p read -o input=raw.jpg -o mode=raw -o format=tsv >raw.tsv" 2>err)
check "mode=raw hashes a 300 MB file through a small buffer ($r)" small "$r" 0
check "  and counts all its bytes" grep -q "raw.jpg.*	314572800	" raw.tsv
r=$(peak bash -c "head -c 50000000 /dev/zero | tr '\\0' a | '$W' -p read -o input=- 2>err")
check "a 50 MB line on stdin is refused with little memory ($r)" small "$r" 2
check "  naming the line and the bound" grep -q "stdin:1: a line longer than 8192 bytes" err
ln -s /dev/zero zlist
r=$(peak timeout -k 5 60 "$W" -p read -o input=zlist 2>err)
check "/dev/zero as a list is refused at once ($r)" small "$r" 2

# Ctrl-C while init lists its inputs: the list is a FIFO this test holds
# open; opening it for writing returns once wsrun has opened it (in init,
# after its handler is installed), and no line ever comes.
mkfifo list.fifo
"$W" -p read -o input=list.fifo 2>err &
pid=$!
exec 3>list.fifo
kill -INT "$pid"
wait "$pid"   # a hang here is the test watchdog's to report, with stacks
status=$?
exec 3>&-
check "Ctrl-C while init waits on a list ends the run with 130 (got $status)" test "$status" -eq 130
check "  saying the listing stopped" grep -q "list.fifo: listing stopped by an interrupt" err

# A plugin's own text (version, description) with control sequences:
# --list-plugins and --help print it escaped, never raw.
WSRUN_PLUGIN_PATH=$FIXTURES "$W" --list-plugins >list.txt 2>/dev/null
check "--list-plugins escapes a description's control bytes" \
    grep -qE '^  ctrltext +1\\x1b\[2J +evil \\x1b\]0;PWNED\\x07 text$' list.txt
check "--list-plugins prints no raw ESC or BEL" bash -c "! grep -q \$'[\\x1b\\x07]' list.txt"
"$W" -p "$FIXTURES/ctrltext.so" --help >help.txt 2>&1
check "--help escapes them too" grep -qF 'ctrltext 1\x1b[2J - evil \x1b]0;PWNED\x07 text' help.txt
check "--help prints no raw ESC or BEL" bash -c "! grep -q \$'[\\x1b\\x07]' help.txt"
check "--help escapes an option's help and default" \
    grep -qE '^  note +string +x\\x1b\[2Jy +- +free text$' help.txt

# A plugin's name equals its file's name, so a file name with control
# bytes is a name with them: the fixture takes its name from its file.
# Every line that names the plugin prints it escaped (issue 23 item 4).
E=$'ctrl\033]0;PWNED\007'     # the raw name
S='ctrl\x1b]0;PWNED\x07'      # as wsrun must print it
D=evil$'\033[2J'dir          # a folder with one too
DS='evil\x1b[2Jdir'
mkdir -p "$D"
ln -s "$FIXTURES/ctrltext.so" "$D/$E.so"
# no_raw FILE: no ESC or BEL left once wsrun's own progress-line erase
# ("\r ESC [K") is taken out.
no_raw() { ! sed $'s/\r\033\\[K//g' "$1" | grep -q $'[\033\007]'; }
"$W" -p "./$D/$E.so" -n 3 --progress --stats >out 2>err
check "a plugin named with control bytes runs (exit 0)" test $? -eq 0
check "  the progress line names it escaped" grep -qF "wsrun: $S: 3/3 (100.0%)" err
check "  --stats names it escaped" grep -qF "wsrun stats: plugin $S, 3 indices" err
check "  no raw ESC or BEL on stderr" no_raw err
"$W" -p "./$D/$E.so" -n 1 -j1 -o fail=on >out 2>err
status=$?
check "its failing index exits 1 (got $status)" test "$status" -eq 1
check "  its ws_fail line names it and the reason escaped" \
    grep -qF "wsrun: $S: index 0 failed (worker 0): failed \\x1b[2J on purpose" err
check "  no raw ESC or BEL" no_raw err
"$W" -p "./$D/$E.so" -n 1 -j1 -o crash=on >out 2>err
status=$?
check "its crash exits 139 (got $status)" test "$status" -eq 139
check "  the crash line names it escaped" \
    grep -qF "wsrun: $S: index 0 (worker 0): fatal signal SIGSEGV" err
check "  the backtrace names its file escaped" grep -qF "/$S.so(+0x" err
check "  the addr2line line quotes the file for bash" \
    grep -qF "addr2line -f -e \$'./$DS/$S.so' 0x" err
check "  no raw ESC or BEL in the crash report" no_raw err
"$W" -p "./$D/$E.so" --help >help.txt 2>&1
check "--help names it and its file escaped" \
    grep -qF "usage: wsrun --plugin $S [--count N]" help.txt
check "  no raw ESC or BEL" no_raw help.txt
WSRUN_PLUGIN_PATH=$PWD/$D "$W" --list-plugins >list.txt 2>&1
check "--list-plugins escapes the folder and the name" \
    grep -qF "$DS:" list.txt
check "  no raw ESC or BEL" no_raw list.txt
"$W" -p "./$D/$E.so" -n 2 --scaling=1,2 --repeat 1 >out 2>err
check "--scaling's table names it escaped" grep -qF "plugin ./$DS/$S.so, -j 1,2" out
check "  no raw ESC or BEL" no_raw out

cli_finish

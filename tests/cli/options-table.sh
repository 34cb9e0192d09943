#!/usr/bin/env bash
# options-table.sh - the bad-input table of docs/failures.md: every wsrun
# option and every option of every built plugin, given a bad value, must
# end in exit status 2 with one line on stderr naming what was wrong (the
# fragment in the table), run nothing and write nothing.  Plugin options are
# read from each plugin's --help table, so a new option is covered without
# an edit here.  Uses $WSRUN_BUILD/wsrun and its plugins; runs in a scratch
# folder it removes; never writes into the source tree.  Ends with
# "options-table: N passed, M failed" and exits non-zero when any failed.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start options-table options
[ -x "$W" ] || { echo "options-table: $W not built"; exit 2; }
mkdir "$SCRATCH/work" && cd "$SCRATCH/work" || exit 2
OUT=$SCRATCH/stdout
ERR=$SCRATCH/stderr

bad() {
    failed=$((failed + 1))
    echo "FAIL: $name: $1"
    echo "  command: wsrun ${args[*]}"
    sed -n '1,5s/^/  stderr: /p' "$ERR"
}

# Checks use bash builtins only: one process per case (wsrun itself).
shopt -s nullglob dotglob

# refuse NAME FRAGMENT -- ARGS...: wsrun ARGS must exit 2 with exactly one
# stderr line containing FRAGMENT, and leave the work folder empty.
refuse() {
    name=$1 fragment=$2
    shift 3
    args=("$@")
    "$W" "$@" >"$OUT" 2>"$ERR" </dev/null
    local rc=$? text="" files=(*)
    IFS= read -r -d '' text <"$ERR"
    if [ "$rc" -ne 2 ]; then bad "exit status $rc, expected 2"; return; fi
    if [[ $text != *"$fragment"* ]]; then bad "stderr lacks: $fragment"; return; fi
    if [[ $text != *$'\n' || ${text%$'\n'} == *$'\n'* ]]; then bad "stderr is not one line"; return; fi
    if [ ${#files[@]} -ne 0 ]; then bad "left files: ${files[*]}"; rm -rf -- "${files[@]}"; return; fi
    passed=$((passed + 1))
}

# accept NAME -- ARGS...: valid edge values run and exit 0.
accept() {
    name=$1
    shift 2
    args=("$@")
    "$W" "$@" >"$OUT" 2>"$ERR" </dev/null
    local rc=$? files=(*)
    [ ${#files[@]} -eq 0 ] || rm -rf -- "${files[@]}"
    if [ "$rc" -ne 0 ]; then bad "exit status $rc, expected 0"; return; fi
    passed=$((passed + 1))
}

num="expected a whole number from 0 to 9223372036854775807, got"

# ------------------------------------------------------------ counts
for c in -5 -1 abc 12x "" " 5" 5x 0x10 1e3 +5 1.5; do
    refuse "count '$c'" "wsrun: --count: $num '$c'" -- -p hello -n "$c"
done
refuse "count 2^63" "--count: 9223372036854775808 is out of range 0..9223372036854775807" -- -p hello -n 9223372036854775808
refuse "count 2^64" "wsrun: --count: $num '18446744073709551616'" -- -p hello -n 18446744073709551616
refuse "count 10^20" "wsrun: --count: $num '100000000000000000000'" -- -p hello -n 100000000000000000000
accept "count 0 does nothing" -- -p noise -n 0
# 2^63-1 parses (--help then stops before anything runs).
accept "count 2^63-1 parses" -- -p hello -n 9223372036854775807 --help

# ------------------------------------------------------------ jobs, seed, retries
refuse "jobs 0" "wsrun: --jobs: 0 is out of range 1..4096" -- -p hello -n 1 -j 0
refuse "jobs 100000" "wsrun: --jobs: 100000 is out of range 1..4096" -- -p hello -n 1 -j 100000
refuse "jobs 4097" "wsrun: --jobs: 4097 is out of range 1..4096" -- -p hello -n 1 --jobs 4097
refuse "jobs -1" "wsrun: --jobs: expected a whole number from 1 to 4096, got '-1'" -- -p hello -n 1 -j -1
refuse "jobs junk" "wsrun: --jobs: expected a whole number from 1 to 4096, got 'two'" -- -p hello -n 1 -j two
refuse "jobs 2^64" "wsrun: --jobs: expected a whole number" -- -p hello -n 1 -j 18446744073709551616
refuse "stack junk" "wsrun: --stack: expected a size such as 256M, 1G or 65536, got '12Q'" -- -p hello -n 1 --stack 12Q
refuse "stack 4K" "wsrun: --stack: 4K is out of range 256K..64G" -- -p hello -n 1 --stack 4K
refuse "stack 65G" "wsrun: --stack: 65G is out of range 256K..64G" -- -p hello -n 1 --stack 65G
refuse "stack -1" "wsrun: --stack: expected a size such as 256M, 1G or 65536, got '-1'" -- -p hello -n 1 --stack -1
refuse "seed -1" "wsrun: --seed: expected a whole number from 0 to 18446744073709551615, got '-1'" -- -p hello -n 1 --seed -1
refuse "seed 2^64" "wsrun: --seed: expected a whole number" -- -p hello -n 1 --seed 18446744073709551616
refuse "seed junk" "wsrun: --seed: expected a whole number" -- -p hello -n 1 --seed 0x5
refuse "retries -1" "wsrun: --retries: expected a whole number from 0 to 1000, got '-1'" -- -p hello -n 1 --retries -1
refuse "retries 1001" "wsrun: --retries: 1001 is out of range 0..1000" -- -p hello -n 1 --retries 1001

# ------------------------------------------------------------ missing values, unknown options
for o in --count -n --jobs -j --seed --retries -o --option --plugin -p --journal --trace --stats-json; do
    refuse "missing value $o" "needs a value" -- -p hello -n 1 "$o"
done
refuse "unknown long option" "wsrun: unknown option '--bogus'" -- -p hello -n 1 --bogus
refuse "unknown short option" "wsrun: unknown option '-x'" -- -p hello -n 1 -x
refuse "stray argument" "wsrun: unexpected argument 'stray'" -- -p hello -n 1 stray
refuse "no plugin" "wsrun: --plugin is required" -- -n 1
refuse "resume without journal" "wsrun: --resume needs --journal FILE" -- -p noise -n 1 --resume
(cd "$SCRATCH" && "$W" -p noise -n 1 -q) || echo "options-table: cannot make a PNG"
refuse "journal of a non-resumable plugin" "plugin read cannot be resumed" -- -p read -n 1 -o input="$SCRATCH/image_0.png" --journal j

# ------------------------------------------------------------ -o syntax, for any plugin
refuse "-o without =" "wsrun: -o 'width': expected key=value" -- -p noise -n 1 -o width
refuse "-o empty value" "wsrun: option 'width': missing value after '='" -- -p noise -n 1 -o width=
refuse "-o empty key" "wsrun: " -- -p noise -n 1 -o =5

# ------------------------------------------------------------ every option of every plugin
# Bad values by type; ranges from the plugin's own --help table.
int_bad=(abc 12x 1.5 " 7" 0x10 99999999999999999999999)
double_bad=(abc nan inf -inf 1e999 1,5 "")
n_plugins=0
for so in "$BUILD"/plugins/*.so; do
    p=$(basename "$so" .so)
    n_plugins=$((n_plugins + 1))
    refuse "$p: unknown key" "unknown option 'no-such-key' for plugin $p" -- -p "$p" -n 1 -o no-such-key=1
    help=$("$W" -p "$p" --help 2>/dev/null) || { name="$p --help"; args=(-p "$p" --help); bad "--help failed"; continue; }
    while IFS=$'\t' read -r opt type range; do
        [ -n "$opt" ] || continue
        frag="wsrun: option '$opt': "
        case $type in
        int)
            for v in "${int_bad[@]}"; do
                refuse "$p -o $opt='$v'" "$frag" -- -p "$p" -n 1 -o "$opt=$v"
            done
            lo=${range%%..*} hi=${range##*..}
            if [[ $lo =~ ^-?[0-9]+$ && $hi =~ ^-?[0-9]+$ && ${#hi} -lt 18 && ${#lo} -lt 18 ]]; then
                refuse "$p -o $opt below range" "$frag$((lo - 1)) is out of range $lo..$hi" -- -p "$p" -n 1 -o "$opt=$((lo - 1))"
                refuse "$p -o $opt above range" "$frag$((hi + 1)) is out of range $lo..$hi" -- -p "$p" -n 1 -o "$opt=$((hi + 1))"
            fi
            ;;
        double)
            for v in "${double_bad[@]}"; do
                [ -z "$v" ] && { refuse "$p -o $opt=" "missing value after '='" -- -p "$p" -n 1 -o "$opt="; continue; }
                refuse "$p -o $opt='$v'" "$frag" -- -p "$p" -n 1 -o "$opt=$v"
            done
            hi=${range##*..}
            [ "$range" != "-" ] && refuse "$p -o $opt above range" "is out of range" -- -p "$p" -n 1 -o "$opt=1e300"
            ;;
        bool)
            refuse "$p -o $opt=maybe" "${frag}expected true/false, yes/no, on/off or 1/0, got 'maybe'" -- -p "$p" -n 1 -o "$opt=maybe"
            ;;
        enum)
            refuse "$p -o $opt=no-such-choice" "${frag}expected one of $range, got 'no-such-choice'" -- -p "$p" -n 1 -o "$opt=no-such-choice"
            ;;
        esac
    done < <(printf '%s\n' "$help" | awk -F '  +' '/^options:/ {t = 1; next} t && $2 != "name" && $2 != "" {print $2 "\t" $3 "\t" $5}')
done
[ "$n_plugins" -ge 3 ] || { name=plugins; args=(); bad "only $n_plugins plugins found in $BUILD/plugins"; }

# ------------------------------------------------------------ sizes that overflow when multiplied
refuse "noise: image bytes overflow the limit" "wsrun: noise: init failed: -o width=65535 -o height=65535 with 3 channel(s) of 16 bits" -- \
    -p noise -n 1 -o width=65535 -o height=65535 -o channels=rgb -o depth=16
refuse "fill: pixels per image too large" "wsrun: fill: init failed: image shape (2147483647, 2147483647, 4) uint16 is " -- \
    -p fill -n 1 -o output=a.npy -o source=constant -o width=2147483647 -o height=2147483647 -o channels=4 -o dtype=u16
refuse "fill: N x H x W x C x bytes overflows 64 bits" "wsrun: fill: init failed: array of 9223372036854775807 images of" -- \
    -p fill -n 9223372036854775807 -o output=a.npy -o source=constant -o width=65536 -o height=65536 -o channels=4 -o dtype=u16 -o max-pixels=1000000000000000000
refuse "fill: needs width and height" "wsrun: fill: init failed: -o source=constant needs -o width=" -- \
    -p fill -n 1 -o output=a.npy -o source=constant
refuse "read: input that does not exist" "wsrun: read: init failed: input 'nothing-here'" -- -p read -n 1 -o input=nothing-here

# ------------------------------------------------------------ absurd descriptors (loader)
if [ -d "$FIXTURES" ]; then
    refuse "descriptor without name" "descriptor has no name" -- -p "$FIXTURES/noname.so" -n 1
    refuse "descriptor without run_one" "descriptor has no run_one callback" -- -p "$FIXTURES/norunone.so" -n 1
    refuse "descriptor smaller than v1" "descriptor struct_size" -- -p "$FIXTURES/shortdesc.so" -n 1
    refuse "descriptor of ABI 99" "plugin ABI major mismatch: expected 1, found 99" -- -p "$FIXTURES/badabi.so" -n 1
    refuse "no descriptor" "is not a wsrun plugin" -- -p "$FIXTURES/nodesc.so" -n 1
fi

cli_finish

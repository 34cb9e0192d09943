#!/usr/bin/env bash
# pollfork.sh - issue 14, item 1 through the command line: the pollfork
# fixture (run_one reads its frame top, calls ws_poll, then forks with the
# _at calls from that top) gives every index once with the right sums in
# each of 20 runs at -j2 and at -j4.  Needs $WSRUN_BUILD with wsrun and the
# test plugins built; writes only into a fresh folder under /tmp.
set -u

. "$(dirname "$0")/../cli_lib.bash"
cli_start pollfork pollfork
[ -f "$FIXTURES/pollfork.so" ] || { echo "pollfork: fixture plugins missing in $FIXTURES"; exit 2; }
cd "$SCRATCH" || exit 2

for jobs in 2 4; do
    for run in $(seq 20); do
        # timeout: the old bug could hang a run; fail it instead of make test
        timeout 300 "$W" --plugin "$FIXTURES/pollfork.so" --count 3000 -j "$jobs" >out.txt 2>err.txt
        rc=$?
        if [ "$rc" -ne 0 ] || [ "$(cat out.txt)" != "pollfork: 3000 indices, each once, sums right" ] ||
            [ -s err.txt ]; then
            bad "-j$jobs run $run: exit $rc, $(head -c 300 out.txt err.txt | tr '\n' ' ')"
        else
            ok
        fi
    done
done
cli_finish

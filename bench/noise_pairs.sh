#!/usr/bin/env bash
# bench/noise_pairs.sh - paired timing of `wsrun --plugin noise` against
# both OpenMP C writers (issue 27), whole process, files on tmpfs:
#   omp-for    bench/peers/noise_omp.c        (tuned: mallopt, dynamic,8)
#   omp-plain  bench/peers/noise_plain_omp.c  (plain: schedule(dynamic))
# same pixels, same PNG settings, same bytes.  Each round runs the three
# programs back to back at each -j, in an order that reverses every round,
# each into a fresh empty folder; then for each -j and peer it prints the
# median of the per-round ratios wsrun/peer (wall and CPU, user + system)
# with a distribution-free 90% confidence interval for that median (order
# statistics of the ratios: the interval [r(k), r(n+1-k)] with the largest
# k whose binomial coverage is still >= 90%; its exact coverage is shown).
# "no slower" needs the interval's upper end <= 1.00.  Every run's exit
# status and file count are checked, and image 0 and the last image of
# every program must be byte-identical; anything else fails the script.
# Measuring only; never writes outside DIR (removed when it made it) and
# the summary file.
#
#   ROUNDS=15 COUNT=20000 JOBS="1 2" bench/noise_pairs.sh [DIR]
#   env: BUILD (default build), WSRUN (default $BUILD/wsrun),
#        PAIRS_OUT=file  also write the summary as KEY=VALUE lines (for
#                        bench/run.sh's meta.txt)
#        BUILD_PEERS=0   use the peers in $BUILD/bench/peers as they are
#                        (default: build them there when missing or stale)
# DIR defaults to a new folder in /dev/shm.  Run it on an idle machine:
# the figures of a loaded one are not the programs'.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
WSRUN=${WSRUN:-$BUILD/wsrun}
ROUNDS=${ROUNDS:-15} COUNT=${COUNT:-20000} JOBS=${JOBS:-1 2}
PEERS=$BUILD/bench/peers
die() { echo "noise_pairs: $*" >&2; exit 2; }
[ $# -le 1 ] || die "usage: ROUNDS=15 COUNT=20000 JOBS=\"1 2\" bench/noise_pairs.sh [DIR]"
case $ROUNDS in '' | *[!0-9]* | 0) die "ROUNDS must be a positive number, not '$ROUNDS'" ;; esac
case $COUNT in '' | *[!0-9]* | 0) die "COUNT must be a positive number, not '$COUNT'" ;; esac
for j in $JOBS; do case $j in *[!0-9]* | 0) die "JOBS: '$j' is not a positive number" ;; esac; done
[ -x "$WSRUN" ] || die "$WSRUN missing (make all)"
PNG_CFLAGS=$(pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS="$(pkg-config --libs libpng 2>/dev/null || echo -lpng) -lz"
mkdir -p "$PEERS" || die "cannot create $PEERS"
for n in noise_omp noise_plain_omp; do # built here when missing or stale
    if [ "${BUILD_PEERS:-1}" = 0 ]; then
        [ -x "$PEERS/$n" ] || die "$PEERS/$n missing (BUILD_PEERS=0)"
        continue
    fi
    [ "$PEERS/$n" -nt "bench/peers/$n.c" ] && [ "$PEERS/$n" -nt tasks/noise_pixels.h ] && continue
    gcc -std=c11 -D_GNU_SOURCE -O2 -g -pthread -fopenmp -Iinclude -Itasks $PNG_CFLAGS \
        "bench/peers/$n.c" -o "$PEERS/$n" $PNG_LIBS -lm || die "cannot build bench/peers/$n.c"
done
MADE=""
if [ -n "${1:-}" ]; then
    DIR=$1
    mkdir -p "$DIR" || die "cannot create $DIR"
else
    DIR=$(mktemp -d /dev/shm/wsrun-noise-pairs.XXXXXX) || die "cannot make a folder in /dev/shm"
    MADE=$DIR
fi
trap '[ -n "$MADE" ] && rm -rf "$MADE"' EXIT

/usr/bin/python3 - "$DIR" "$ROUNDS" "$COUNT" "$WSRUN" "$PEERS" "${PAIRS_OUT:-}" $JOBS <<'EOF'
import math, os, shutil, statistics, subprocess, sys, time

out_dir, rounds, count, wsrun, peers, pairs_out = sys.argv[1:7]
rounds, count, jobs = int(rounds), int(count), [int(j) for j in sys.argv[7:]]
work = os.path.join(out_dir, "w")

def command(prog, j):
    if prog == "wsrun":
        return [wsrun, "--plugin", "noise", "--count", str(count), "-j", str(j), "-q",
                "-o", "prefix=" + work + "/image_"], None
    exe = {"omp-for": "noise_omp", "omp-plain": "noise_plain_omp"}[prog]
    return [os.path.join(peers, exe), work, str(count)], dict(os.environ, OMP_NUM_THREADS=str(j))

firsts = {}  # prog -> bytes of image 0 and the last image, from its first run

def run(prog, j):
    """(wall s, cpu s) of one whole run into an empty folder, checked."""
    shutil.rmtree(work, ignore_errors=True)
    os.mkdir(work)
    argv, env = command(prog, j)
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("noise_pairs: %s -j%d failed (status %d)" % (prog, j, status))
    n = len(os.listdir(work))
    if n != count:
        sys.exit("noise_pairs: %s -j%d left %d files, not %d" % (prog, j, n, count))
    if prog not in firsts:
        def read(i):
            with open("%s/image_%d.png" % (work, i), "rb") as f:
                return f.read()
        firsts[prog] = (read(0), read(count - 1))
        if firsts[prog] != next(iter(firsts.values())):
            sys.exit("noise_pairs: %s writes other bytes than %s" % (prog, next(iter(firsts))))
    return wall, ru.ru_utime + ru.ru_stime

def median_ci(values, level=0.90):
    """Median and the order-statistic interval around it: the largest k with
    P(k-1 or fewer of n fall below the median) <= (1-level)/2, so that
    [x(k), x(n+1-k)] covers the true median with probability >= level."""
    x, n = sorted(values), len(values)
    tail, k = 0.0, 0
    for i in range(n):  # P(Binomial(n, 1/2) <= i)
        tail += math.comb(n, i) / 2 ** n
        if tail > (1 - level) / 2:
            break
        k = i + 1
    if k == 0:
        return statistics.median(x), None, None, None
    cover = 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2 ** n
    return statistics.median(x), x[k - 1], x[n - k], cover

progs = ["wsrun", "omp-for", "omp-plain"]
times = {(p, j): [] for p in progs for j in jobs}
for r in range(rounds):
    for j in jobs:
        for p in (progs if r % 2 == 0 else progs[::-1]):
            times[p, j].append(run(p, j))
    print("  round %d/%d: %s" % (r + 1, rounds, "  ".join(
        "-j%d %s" % (j, " ".join("%.0f" % (times[p, j][-1][0] * 1e3) for p in progs))
        for j in jobs)), file=sys.stderr)
shutil.rmtree(work, ignore_errors=True)

load = open("/proc/loadavg").read().split()[:3]
print("noise --count %d, files in %s, %d paired rounds, %s, load average now %s"
      % (count, out_dir, rounds, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), " ".join(load)))
print("ratio = wsrun / peer, per round; median [90% CI of the median, exact coverage]")
print("%-4s %-10s %-6s %10s %10s   %s" % ("-j", "peer", "what", "wsrun ms", "peer ms",
                                         "ratio median [90% CI]"))
kv = []
for j in jobs:
    for peer in progs[1:]:
        for what, w in (("wall", 0), ("cpu", 1)):
            a = [t[w] for t in times["wsrun", j]]
            b = [t[w] for t in times[peer, j]]
            med, lo, hi, cover = median_ci([x / y for x, y in zip(a, b)])
            if lo is None:
                ci, verdict = "(too few rounds for an interval)", "undecided"
            else:
                ci = "[%.3f, %.3f] (%.1f%%)" % (lo, hi, 100 * cover)
                verdict = ("no slower" if hi <= 1.0 else "SLOWER" if lo > 1.0 else "undecided")
            print("%-4s %-10s %-6s %10.1f %10.1f   %.3f %s  %s" % (
                "-j%d" % j, peer, what, statistics.median(a) * 1e3, statistics.median(b) * 1e3,
                med, ci, verdict))
            kv.append("noise_pairs_j%d_%s_%s=%.4f %s %s %s %d" % (
                j, peer, what, med, "%.4f" % lo if lo is not None else "-",
                "%.4f" % hi if hi is not None else "-",
                "%.4f" % cover if cover is not None else "-", rounds))
if pairs_out:
    with open(pairs_out, "w") as f:
        f.write("noise_pairs_count=%d\n" % count)
        f.write("".join(line + "\n" for line in kv))
EOF

#!/usr/bin/env python3
# ab.py - A/B of two wsrun builds on fib(35), empty x 10^8 and noise x 2000,
# run by run alternating (who goes first swaps every round), so a change
# of the machine's speed hits both alike: `bench/ab.py OLD_BUILD NEW_BUILD
# [ROUNDS]` prints the medians and NEW/OLD.  fib and empty are timed by
# the plugins' own span (-o timing=on), noise as a whole process writing
# into /dev/shm/abnoise.  Used for the "figures unchanged" checks of
# refactorings (docs/benchmarks.md); never part of make test.
import subprocess, sys, time, statistics, shutil, os
A, B = sys.argv[1], sys.argv[2]          # build folders
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 11
cases = [
  ("fib35 -j1", ["--plugin","fib","-j","1","-o","n=35","-o","timing=on"], "span"),
  ("fib35 -j2", ["--plugin","fib","-j","2","-o","n=35","-o","timing=on"], "span"),
  ("empty1e8 -j1", ["--plugin","empty","--count","100000000","-j","1","-o","timing=on"], "span"),
  ("empty1e8 -j2", ["--plugin","empty","--count","100000000","-j","2","-o","timing=on"], "span"),
  ("noise2000 -j2", ["--plugin","noise","--count","2000","-j","2","-q","-o","prefix=/dev/shm/abnoise/image_"], "wall"),
]
res = {(c[0], w): [] for c in cases for w in (A, B)}
for r in range(rounds):
    for name, args, kind in cases:
        for w in ((A, B) if r % 2 == 0 else (B, A)):
            shutil.rmtree("/dev/shm/abnoise", ignore_errors=True); os.makedirs("/dev/shm/abnoise")
            t0 = time.perf_counter()
            out = subprocess.run([w + "/wsrun"] + args, capture_output=True, text=True, check=True).stdout
            wall = time.perf_counter() - t0
            v = wall
            if kind == "span":
                v = float([l.split()[1] for l in out.splitlines() if l.startswith("time_s")][0])
            res[(name, w)].append(v)
print("case, A median ms, B median ms, B/A   (A=%s B=%s, %d rounds alternating)" % (A, B, rounds))
for name, _, kind in cases:
    a = statistics.median(res[(name, A)]) * 1e3; b = statistics.median(res[(name, B)]) * 1e3
    print("%-14s %9.2f %9.2f  %.3f  (%s)" % (name, a, b, b / a, kind))

#!/usr/bin/python3
"""bench/python_behaviours.py WSRUN [CHUNK] - what each runner does when
things go wrong (issue 25's table): an exception at one index, a worker
killed (SIGKILL) at one index, Ctrl-C (SIGINT to the whole process group,
as a terminal sends it) while a task sleeps for an hour, then a second
Ctrl-C if the first did not end it; and whether the tasks' numpy random
streams are distinct (each task draws one number with np.random.rand, as
the seed's Example 1 does).  Runners: wsrun's python plugin, Pool.map with
its default chunksize and with CHUNK (default 16; bench/python.sh passes
its sweep's best), ProcessPoolExecutor, joblib (if installed).  Prints a
markdown table: exit status, whether the failing index is named, how many
tracebacks, "hung" when the run did not end within HANG_S seconds (then it
is killed), distinct draws of N.  Writes only into a temporary folder;
part of bench/python.sh, not of make test (it waits on timers).
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

HANG_S = float(os.environ.get("PYBENCH_HANG_S", "20"))
N = 200

TASKS = r'''
import os, sys, time
PARENT = int(os.environ["BEHAVE_PARENT"]) if "BEHAVE_PARENT" in os.environ else None
MODE = os.environ["BEHAVE_MODE"]
if MODE == "random":  # imported before the workers start, as in the seed
    import numpy as np

def f(index):
    if MODE == "random":
        with open("r_" + str(index), "w") as out:
            out.write(repr(float(np.random.rand())))
        return
    time.sleep(0.002)
    if index == 137 and MODE == "raise":
        raise ValueError("bad input")
    if index == 137 and MODE == "kill":
        os.kill(os.getpid(), 9)
    if index == 40 and MODE == "sigint":
        open("started", "w").close()
        time.sleep(3600)

if __name__ == "__main__":
    runner, jobs = sys.argv[1], 2
    if runner == "pool":
        import multiprocessing as mp
        chunk = int(sys.argv[2]) if len(sys.argv) > 2 else None
        with mp.Pool(jobs) as pool:
            pool.map(f, range(%d), chunksize=chunk)
    elif runner == "ppe":
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(jobs) as ex:
            list(ex.map(f, range(%d)))
    elif runner == "joblib":
        from joblib import Parallel, delayed
        Parallel(n_jobs=jobs)(delayed(f)(i) for i in range(%d))
''' % (N, N, N)


def run(cmd, mode, folder):
    env = dict(os.environ, BEHAVE_MODE=mode)
    started = os.path.join(folder, "started")
    for name in os.listdir(folder):
        if name == "started" or name.startswith("r_"):
            os.remove(os.path.join(folder, name))
    p = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    if mode == "sigint":
        t0 = time.time()
        while not os.path.exists(started) and time.time() - t0 < HANG_S:
            time.sleep(0.01)
        os.killpg(p.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
    second = ""
    try:
        _, err = p.communicate(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        if mode != "sigint":
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return "hung (killed after %g s)" % HANG_S
        os.killpg(p.pid, signal.SIGINT)  # a second Ctrl-C
        second = "after a 2nd Ctrl-C: "
        try:
            _, err = p.communicate(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return "hung, also after a 2nd Ctrl-C"
    err = err.decode(errors="replace")
    if mode == "random":
        draws = set()
        for name in os.listdir(folder):
            if name.startswith("r_"):
                with open(os.path.join(folder, name)) as got:
                    draws.add(got.read())
        return "%d distinct of %d (exit %d)" % (len(draws), N, p.returncode)
    named = "137" in err if mode != "sigint" else None
    text = second + "exit %d, %d traceback(s)" % (p.returncode, err.count("Traceback"))
    if named is not None:
        text += ", index named" if named else ", index not named"
    return text


def main():
    wsrun = sys.argv[1]
    chunk = sys.argv[2] if len(sys.argv) > 2 else "16"
    folder = tempfile.mkdtemp(prefix="wsrun-behave.")
    script = os.path.join(folder, "behave.py")
    with open(script, "w") as f:
        f.write(TASKS)
    runners = [("wsrun -j2", [wsrun, "--plugin", "python", "-o", "script=behave.py",
                              "-o", "function=f", "--count", str(N), "-j", "2"]),
               ("Pool.map default chunksize", [sys.executable, script, "pool"]),
               ("Pool.map chunksize %s" % chunk, [sys.executable, script, "pool", chunk]),
               ("ProcessPoolExecutor", [sys.executable, script, "ppe"])]
    try:
        import joblib  # noqa: F401
        runners.append(("joblib", [sys.executable, script, "joblib"]))
    except ImportError:
        pass
    print("| runner | exception at index 137 | worker killed at index 137 | Ctrl-C "
          "| numpy random streams |")
    print("|---|---|---|---|---|")
    for name, cmd in runners:
        cells = [run(cmd, mode, folder) for mode in ("raise", "kill", "sigint", "random")]
        print("| %s | %s |" % (name, " | ".join(cells)), flush=True)
    subprocess.run(["rm", "-rf", folder])


if __name__ == "__main__":
    main()

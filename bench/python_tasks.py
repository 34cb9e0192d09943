# bench/python_tasks.py - the workloads of bench/python.sh (issue 25), one
# function per workload, each run by wsrun's python plugin
# (-o function=NAME, parameters in -o args) and, as `python3
# python_tasks.py WORKLOAD MODE JOBS N [CHUNK]`, by the Python peers:
# Pool.map, ProcessPoolExecutor.map, joblib, and wsrun.map of the wsrun
# package (MODE map; bench/python_map.sh).  Every runner calls the same
# function on the same indices.  Must never write outside the current
# folder (ex1 writes image_<i>.png there).
#
#   ex1     the seed's Example 1: a 100x100 noise image written with
#           cv2.imwrite (the stand-in tests/py/cv2_stub where cv2 is missing)
#   tiny    ~20 us of numpy per index (sort of 200 numbers, a sum)
#   pareto  heavy-tailed cost: index i repeats a ~50 us numpy step
#           cost[i] times, cost ~ 1 + Pareto(ALPHA), a fixed draw (ALPHA
#           1.5 unless given; 1.1 is far more unequal); total set by
#           PARETO_STEPS (args: N STEPS [ALPHA])
#   sorted  the same costs, indices sorted heaviest first (inputs sorted
#           by size, as users often have them)
#   noop    returns its index: the runner's own cost per index
#
# Mode `model` (python_tasks.py pareto|sorted model JOBS N - STEPS [ALPHA])
# runs nothing: it prints how much longer than a perfect balance Pool.map's
# default chunks must take on that draw, counting the costs only (each
# chunk to the first free worker).  No runner can beat Pool's default by
# more than that ratio.
import sys

import numpy as np

try:
    import cv2
except ImportError:  # the bench says which one ran
    cv2 = None

ARGS = sys.argv[1:]


def ex1(index):
    arr = 255 * np.random.rand(100, 100)
    cv2.imwrite('image_' + str(index) + '.png', arr)


def tiny(index):
    a = np.random.rand(200)
    a.sort()
    return float(a.sum())


def noop(index):
    return index


def _costs(n, steps, alpha=1.5):
    # A fixed heavy-tailed draw scaled to `steps` steps in all.
    c = np.random.default_rng(12345).pareto(alpha, n) + 1.0
    c = np.maximum(1, np.round(c * steps / c.sum())).astype(np.int64)
    return c


def _step():
    m = np.random.rand(24, 24)
    return float((m @ m).trace())


_COSTS = None
_ORDER = None


def _setup(n, steps, alpha=1.5):
    global _COSTS, _ORDER
    _COSTS = _costs(n, steps, alpha)
    _ORDER = np.argsort(-_COSTS, kind="stable")


def pareto(index):
    for _ in range(int(_COSTS[index])):
        _step()


def sorted_heavy_first(index):
    pareto(int(_ORDER[index]))


def _model(workload, jobs, n):
    costs = _COSTS if workload == "pareto" else _COSTS[_ORDER]
    chunk, extra = divmod(n, jobs * 4)  # Pool.map's default chunksize
    chunk += 1 if extra else 0
    free = [0] * jobs
    for start in range(0, n, chunk):
        k = free.index(min(free))
        free[k] += int(costs[start:start + chunk].sum())
    ideal = max(costs.sum() / jobs, costs.max())
    print(f"{workload}: Pool.map's default chunks (chunksize {chunk}) take "
          f"{max(free) / ideal:.3f}x a perfect balance at {jobs} jobs")


# Under wsrun: -o args="N STEPS [ALPHA]" for pareto/sorted.
if len(ARGS) in (2, 3) and __name__ != "__main__":
    _setup(int(ARGS[0]), int(ARGS[1]), float(ARGS[2]) if len(ARGS) == 3 else 1.5)

FUNCS = {"ex1": ex1, "tiny": tiny, "pareto": pareto, "sorted": sorted_heavy_first,
         "noop": noop}


def main():
    workload, mode, jobs, n = ARGS[0], ARGS[1], int(ARGS[2]), int(ARGS[3])
    chunk = int(ARGS[4]) if len(ARGS) > 4 and ARGS[4] != "-" else None
    if workload in ("pareto", "sorted"):
        _setup(n, int(ARGS[5]), float(ARGS[6]) if len(ARGS) > 6 else 1.5)
    fn = FUNCS[workload]
    if mode == "model":
        _model(workload, jobs, n)
    elif mode == "serial":
        for i in range(n):
            fn(i)
    elif mode == "pool":
        import multiprocessing as mp
        with mp.Pool(jobs) as pool:
            pool.map(fn, range(n), chunksize=chunk)
    elif mode == "map":
        import wsrun
        wsrun.map(fn, n, jobs=jobs)
    elif mode == "ppe":
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(jobs) as ex:
            list(ex.map(fn, range(n), chunksize=chunk or 1))
    elif mode == "joblib":
        from joblib import Parallel, delayed
        Parallel(n_jobs=jobs)(delayed(fn)(i) for i in range(n))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()

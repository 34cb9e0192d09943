# wsrun/__init__.py - the `wsrun` Python package (docs/python.md, "The wsrun
# module"): wsrun.map on libwsrun's work stealing, wsrun.rng, and the
# failure type.  The C half is wsrun._wsrun (python/*.c); the random state
# is wsrun/_common.py, the same code the python plugin runs.  Must never start
# a thread or a process at import, and never pickle the function map runs.
"""Run Python functions on wsrun's work-stealing pool of forked processes,
and wsrun's plugins in-process.

    import wsrun
    images = wsrun.map(make_image, 2000)       # like Pool().map(make_image, range(2000))
    array = wsrun.fill("image_*.png")          # numpy array (2000, 100, 100) uint8
    rows = wsrun.read("image_*.png")           # [{"index": 0, "path": ..., ...}, ...]
    stats = wsrun.run("noise", 2000, seed=7)   # any plugin, by name or path

See help(wsrun.map), wsrun.run, wsrun.fill, wsrun.read, wsrun.rng,
wsrun.TaskError and wsrun.RunError.
"""
import collections.abc as _abc
import os as _os
import pickle as _pickle
import signal as _signal
import sys as _sys

from . import _common
from ._common import rng
from . import _wsrun
from ._plugins import RunError, fill, read, run

__all__ = ["map", "rng", "TaskError", "Failure", "seed", "run", "fill", "read", "RunError"]

#: The seed of the run this code runs in: seed= of the wsrun.map call
#: inside its worker processes, --seed inside the python plugin, else 0.
seed = 0


class Failure:
    """One index that failed: .index, .type (the exception's qualified type
    name, or None when its worker process died), .text, .traceback (the
    remote traceback's text, "" when none), .exception (the exception
    object when it could be pickled back, else None) and .signal (the
    signal that ended the worker process, or None)."""

    __slots__ = ("index", "type", "text", "traceback", "exception", "signal")

    def __init__(self, index, type, text, traceback="", exception=None, signal=None):
        self.index = index
        self.type = type
        self.text = text
        self.traceback = traceback
        self.exception = exception
        self.signal = signal

    def line(self):
        if self.type is None:
            return "index %d: %s" % (self.index, self.text)
        return "index %d: %s%s" % (self.index, self.type, ": " + self.text if self.text else "")

    def __repr__(self):
        return "<wsrun.Failure %s>" % self.line()


class TaskError(Exception):
    """An index of wsrun.map failed (or of a plugin run by wsrun.run, fill
    or read: then .type is None, .text is libwsrun's message for the lowest
    failed index, .results is {} and .stats the run's statistics).

    .index, .type, .text, .traceback, .signal: the first failed index's (see
    wsrun.Failure); .failures: every failure, by index (one, unless
    keep_going=True); .results: {index: result} of the indices that
    finished (all of them but the failures with keep_going=True)."""

    def __init__(self, failures, results):
        self.failures = failures
        self.results = results
        first = failures[0]
        self.index = first.index
        self.type = first.type
        self.text = first.text
        self.traceback = first.traceback
        self.signal = first.signal
        more = len(failures) - 1
        msg = first.line()
        if more:
            msg += " (and %d more failed index%s)" % (more, "" if more == 1 else "es")
        super().__init__(msg)

    def __str__(self):
        s = self.args[0]
        if self.traceback:
            s += "\n\nRemote traceback of index %d:\n%s" % (self.index, self.traceback.rstrip())
        return s


def _qualname(t):
    name = t.__qualname__
    if t.__module__ not in ("builtins", "__main__"):
        name = t.__module__ + "." + name
    return name


def _failure(exc, what):
    # In a worker process: the pending exception as bytes for the caller.
    if exc is None:
        return _pickle.dumps(("SystemError", "an exception that cannot be described", "", None))
    # traceback (with linecache, tokenize, enum) is imported here, on the
    # first failure, not by every `import wsrun`.
    import traceback

    text = " ".join(str(exc).split())
    tb = "".join(traceback.format_exception(exc))
    if what:
        text = "%s: %s: %s" % (what, _qualname(type(exc)), text)
        name = "wsrun.UnpicklableResult" if "pickled" in what else _qualname(type(exc))
    else:
        name = _qualname(type(exc))
    try:
        obj = _pickle.dumps(exc)
        _pickle.loads(obj)
    except Exception:
        obj = None
    return _pickle.dumps((name, text, tb, obj))


def _child_start():
    # In a worker process, before its first index: print() from tasks
    # reaches the file in whole lines, so lines of processes never tear.
    _sys.stdout = _common.whole_lines(_sys.stdout)
    _sys.stderr = _common.whole_lines(_sys.stderr)


def _flush():
    for f in (_sys.stdout, _sys.stderr):
        if f is not None:
            try:
                f.flush()
            except Exception:
                pass


def _signal_name(n):
    try:
        return _signal.Signals(n).name
    except ValueError:
        return "signal %d" % n


def _died(index, wstatus, timed_out, timeout):
    if wstatus == -2:
        return Failure(index, None, "not run: no worker process could start")
    if wstatus == -1:
        return Failure(index, None, "its worker process ended with wsrun's template process "
                       "(killed from outside?)")
    if timed_out:
        return Failure(index, None, "timed out after %g s: its worker process was killed"
                       % timeout, signal=_signal.SIGKILL)
    if _os.WIFSIGNALED(wstatus):
        sig = _os.WTERMSIG(wstatus)
        extra = " (from outside, or out of memory)" if sig == _signal.SIGKILL else ""
        return Failure(index, None, "its worker process was killed by %s%s"
                       % (_signal_name(sig), extra), signal=sig)
    if _os.WIFEXITED(wstatus):
        return Failure(index, None, "its worker process exited with status %d (os._exit or "
                       "a crash in native code?)" % _os.WEXITSTATUS(wstatus))
    return Failure(index, None, "its worker process ended (wait status 0x%x)" % wstatus)


def _cpus():
    try:
        return len(_os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return _os.cpu_count() or 1


def map(func, n_or_iterable, *, jobs=None, seed=0, keep_going=False, retries=0,
        timeout=None, progress=None):
    """Call func for every index of range(n), or every item of an iterable,
    in worker processes; return the results in order, as a list.

    func is called as func(i) for an int n (0 <= i < n), or func(item) for
    each item of a sequence; any other iterable is made a list first.  The
    worker processes are forked for this call (func may be a lambda or a
    closure: it is never pickled; the results are).  Indices go to the
    processes by wsrun's work stealing: no chunksize to choose.

    Before each index, random and numpy.random get the index's own state,
    derived from (seed, index) exactly as wsrun's python plugin does, so
    results never depend on jobs; wsrun.rng(i) is the same per-index
    numpy Generator.  The processes ignore SIGINT and run BLAS/OpenMP on
    one thread each.

    jobs: worker processes (default: the CPUs this process may use, at
    most the number of indices).  keep_going: run every index even after
    a failure (the TaskError then carries all failures and the results).
    retries: run a failed index (exception, dead or timed-out process) up
    to this many more times.  timeout: seconds one index may run; its
    process is then killed and the index fails.  progress: draw a progress
    line on stderr (default: when stderr is a terminal).

    Raises wsrun.TaskError when an index raised, returned a result that
    cannot be pickled, or its process died (killed, crashed); Ctrl-C stops
    the processes and raises KeyboardInterrupt once.
    """
    if isinstance(n_or_iterable, int) and not isinstance(n_or_iterable, bool):
        if n_or_iterable < 0:
            raise ValueError("wsrun.map: the count must be >= 0, not %d" % n_or_iterable)
        count, items = n_or_iterable, None
    else:
        items = n_or_iterable
        if not isinstance(items, _abc.Sequence):
            items = list(items)
        count = len(items)
    if not callable(func):
        raise TypeError("wsrun.map: func must be callable, not %s" % type(func).__name__)
    if jobs is None:
        jobs = _cpus()
    jobs = int(jobs)
    if jobs < 1 or jobs > 4096:
        raise ValueError("wsrun.map: jobs must be 1..4096, not %d" % jobs)
    retries = int(retries)
    if retries < 0:
        raise ValueError("wsrun.map: retries must be >= 0, not %d" % retries)
    timeout_ns = 0
    if timeout is not None:
        if not timeout > 0:
            raise ValueError("wsrun.map: timeout must be > 0 seconds, not %r" % (timeout,))
        timeout_ns = max(1, int(timeout * 1e9))
    if progress is None:
        progress = _sys.stderr is not None and hasattr(_sys.stderr, "isatty") and \
            _sys.stderr.isatty()
    if count == 0:
        return []
    jobs = min(jobs, count)
    raw, fails = _wsrun.map(func, items, count, jobs, int(seed) & _common.MASK64,
                            bool(keep_going), retries, timeout_ns, bool(progress),
                            _sys.modules[__name__], _common.__dict__, _failure, _pickle.dumps)
    loads = _pickle.loads
    if not fails:
        return [loads(b) for b in raw]
    failures = []
    for index, kind, payload, wstatus, timed_out in fails:
        if kind == 2:
            try:
                name, text, tb, obj = loads(payload)
                exc = loads(obj) if obj is not None else None
            except Exception:
                name, text, tb, exc = "SystemError", "a failure that cannot be read", "", None
            failures.append(Failure(index, name, text, tb, exc))
        else:
            failures.append(_died(index, wstatus, timed_out, timeout))
    results = {i: loads(b) for i, b in enumerate(raw) if b is not None}
    raise TaskError(failures, results)

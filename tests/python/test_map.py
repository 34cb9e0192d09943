# tests/python/test_map.py - wsrun.map of the wsrun Python package (make
# test-python: pytest with PYTHONPATH=build/python).  Real worker
# processes; failures, deaths and Ctrl-C are caused by the function itself
# at a chosen index (no timers), and outcomes are results, messages and
# exit statuses, never durations.  Must never leave a process behind.
import errno
import os
import pickle
import random
import select
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import wsrun

BUILD = os.environ.get("WSRUN_BUILD", "build")
PYTHONPATH = os.path.join(BUILD, "python")


def no_children_left():
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@pytest.mark.parametrize("jobs", [1, 2])
def test_count_in_order(jobs):
    assert wsrun.map(lambda i: i * i, 100, jobs=jobs) == [i * i for i in range(100)]
    no_children_left()


@pytest.mark.parametrize("jobs", [1, 2])
def test_sequence_and_generator(jobs):
    words = ["w%d" % k for k in range(37)]
    assert wsrun.map(str.upper, words, jobs=jobs) == [w.upper() for w in words]
    assert wsrun.map(len, (w for w in words), jobs=jobs) == [len(w) for w in words]
    assert wsrun.map(lambda x: x, range(5, 9), jobs=jobs) == [5, 6, 7, 8]
    assert wsrun.map(lambda x: x, 0, jobs=jobs) == []


def test_closure_sees_the_callers_state():
    table = {k: object() for k in range(3)}  # not picklable as a whole: never sent
    offset = 1000

    def f(i):
        return offset + i + (0 if table[i % 3] else 1)

    assert wsrun.map(f, 10, jobs=2) == [1000 + i for i in range(10)]


def test_exception_at_one_index():
    def f(i):
        if i == 13:
            raise KeyError("no such thing %d" % i)
        return i

    with pytest.raises(wsrun.TaskError) as got:
        wsrun.map(f, 40, jobs=2)
    e = got.value
    assert e.index == 13
    assert e.type == "KeyError"
    assert e.text == "'no such thing 13'"
    assert "raise KeyError(\"no such thing %d\" % i)" in e.traceback
    assert "in f" in e.traceback
    assert isinstance(e.failures[0].exception, KeyError)
    assert len(e.failures) == 1
    assert "index 13: KeyError: 'no such thing 13'" in str(e)
    no_children_left()


def test_unpicklable_result():
    with pytest.raises(wsrun.TaskError) as got:
        wsrun.map(lambda i: (lambda: i) if i == 5 else i, 8, jobs=2)
    e = got.value
    assert e.index == 5
    assert e.type == "wsrun.UnpicklableResult"
    assert e.text.startswith("the result cannot be pickled: ")
    assert "lambda" in e.text


def test_keep_going_two_failures():
    def f(i):
        if i in (3, 17):
            raise ValueError("bad %d" % i)
        return -i

    with pytest.raises(wsrun.TaskError) as got:
        wsrun.map(f, 30, jobs=2, keep_going=True)
    e = got.value
    assert [x.index for x in e.failures] == [3, 17]
    assert [x.text for x in e.failures] == ["bad 3", "bad 17"]
    assert e.results == {i: -i for i in range(30) if i not in (3, 17)}
    assert "and 1 more failed index" in str(e)


def test_killed_worker_is_pinned_and_replaced():
    def f(i):
        if i == 7:
            os.kill(os.getpid(), signal.SIGKILL)
        return i

    with pytest.raises(wsrun.TaskError) as got:
        wsrun.map(f, 50, jobs=2, keep_going=True)
    e = got.value
    assert [x.index for x in e.failures] == [7]
    assert e.type is None and e.signal == signal.SIGKILL
    assert "killed by SIGKILL" in e.text
    assert e.results == {i: i for i in range(50) if i != 7}
    no_children_left()


def test_killed_worker_is_seen_when_the_program_ignores_sigchld():
    # SIG_IGN for SIGCHLD is inherited by the processes map forks; there
    # the kernel would reap the killed worker unseen and the call wait for
    # ever (it did).  In a child python, so that a regression is a named
    # failure after the guard (a hang guard, not a timing).
    code = """if True:
        import os, signal, wsrun
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        def f(i):
            if i == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return i
        try:
            wsrun.map(f, 20, jobs=2, keep_going=True)
        except wsrun.TaskError as e:
            print([x.index for x in e.failures], e.signal == signal.SIGKILL, len(e.results))
        print(wsrun.map(lambda i: i * 2, 5, jobs=2))
    """
    try:
        got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("wsrun.map hung on a killed worker with SIGCHLD ignored")
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == ["[3] True 19", "[0, 2, 4, 6, 8]"], got.stdout


def test_a_running_index_leaves_the_range_to_the_other_worker(tmp_path):
    # Index 0 waits until the last index has run, which only the other
    # worker can do meanwhile: worker 0's thread, waiting for its process,
    # must split its range for the thief.  Before that it answered only
    # between indices: index 0 gave up after the guard.  The loops are
    # hang guards (~30 s), not timings.
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    n = 40

    def f(i):
        if i == 0:
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            try:
                ready, _, _ = select.select([fd], [], [], 30)
                return os.read(fd, 1) if ready else b"no writer"
            finally:
                os.close(fd)
        if i == n - 1:
            for _ in range(3000):
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as e:
                    if e.errno != errno.ENXIO:  # no reader yet
                        raise
                    time.sleep(0.01)
                    continue
                os.write(fd, b"x")
                os.close(fd)
                return i
            return "no reader"
        return i

    assert wsrun.map(f, n, jobs=2) == [b"x"] + list(range(1, n))
    no_children_left()


def test_retries_run_a_failed_index_again(tmp_path):
    def f(i):
        mark = tmp_path / str(i)
        if i % 4 == 0 and not mark.exists():
            mark.touch()
            raise RuntimeError("first try")
        return i

    assert wsrun.map(f, 12, jobs=2, retries=1) == list(range(12))


def test_timeout_kills_a_stuck_index():
    with pytest.raises(wsrun.TaskError) as got:
        wsrun.map(lambda i: signal.pause() if i == 2 else i, 6, jobs=2, timeout=1)
    assert got.value.index == 2
    assert got.value.text.startswith("timed out after 1 s")
    no_children_left()


def test_seed_example_1_pattern_distinct_and_same_for_any_jobs():
    # The seed's Example 1: np.random in the function, no seeding by hand.
    def image(i):
        return (255 * np.random.rand(8, 8)).astype(np.uint8)

    one = wsrun.map(image, 200, jobs=1)
    two = wsrun.map(image, 200, jobs=2)
    assert len({a.tobytes() for a in one}) == 200
    assert all((a == b).all() for a, b in zip(one, two))
    other = wsrun.map(image, 3, jobs=2, seed=1)
    assert not (other[0] == one[0]).all()


def test_rng_and_random_per_index():
    got = wsrun.map(lambda i: (wsrun.seed, wsrun.rng(i).random(), random.random()), 4, seed=9,
                    jobs=2)
    assert [g[0] for g in got] == [9] * 4
    assert [g[1] for g in got] == [wsrun.rng(i, seed=9).random() for i in range(4)]
    assert len({g[2] for g in got}) == 4
    assert wsrun.seed == 0  # the caller's own module is untouched


def test_same_numbers_as_the_python_plugin(tmp_path):
    # The plugin runs python/wsrun/_common.py too: same (seed, index), same values.
    script = tmp_path / "nums.py"
    out = tmp_path / "out"
    out.mkdir()
    script.write_text(textwrap.dedent("""\
        import random, wsrun
        import numpy as np
        def f(i):
            v = (random.random(), float(np.random.rand()), wsrun.rng(i).random())
            with open("%s/%%d" %% i, "w") as fh:
                fh.write(repr(v))
        """ % out))
    subprocess.run([os.path.join(BUILD, "wsrun"), "--plugin", "python", "--count", "3",
                    "--seed", "5", "-j1", "-o", "script=%s" % script, "-o", "function=f"],
                   check=True, stdout=subprocess.DEVNULL)
    plugin = [eval((out / str(i)).read_text()) for i in range(3)]
    mine = wsrun.map(lambda i: (random.random(), float(np.random.rand()), wsrun.rng(i).random()),
                     3, seed=5, jobs=2)
    assert mine == plugin


def run_script(body, **kw):
    env = dict(os.environ, PYTHONPATH=PYTHONPATH)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body)], env=env,
                          capture_output=True, text=True, start_new_session=True, **kw)


CTRL_C = """\
    import os, signal, wsrun
    def f(i):
        if i == 3:
            os.killpg(os.getpgid(0), signal.SIGINT)  # Ctrl-C at a terminal
        return i
    %s
    """


def test_ctrl_c_raises_keyboard_interrupt_once():
    p = run_script(CTRL_C % """
    try:
        wsrun.map(f, 200, jobs=2)
    except KeyboardInterrupt:
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            print("interrupted, no process left")
    """)
    assert p.stdout == "interrupted, no process left\n"
    assert p.stderr == ""
    p = run_script(CTRL_C % "wsrun.map(f, 200, jobs=2)")
    assert p.returncode == -signal.SIGINT
    assert p.stderr.count("Traceback") == 1
    assert p.stderr.count("KeyboardInterrupt") == 1


def test_progress_line_only_when_asked_or_on_a_terminal():
    p = run_script("import wsrun; wsrun.map(abs, 20, jobs=2)")
    assert p.returncode == 0 and p.stderr == ""
    p = run_script("import wsrun; wsrun.map(abs, 20, jobs=2, progress=True)")
    assert p.returncode == 0
    assert "wsrun: map: 20/20 (100.0%)" in p.stderr


def test_bad_arguments():
    with pytest.raises(ValueError, match="jobs must be 1..4096"):
        wsrun.map(abs, 3, jobs=0)
    with pytest.raises(ValueError, match="count must be >= 0"):
        wsrun.map(abs, -1)
    with pytest.raises(TypeError, match="func must be callable"):
        wsrun.map(3, 3)
    with pytest.raises(ValueError, match="timeout must be > 0"):
        wsrun.map(abs, 3, timeout=0)


def test_help_has_docstrings():
    assert "work stealing" in wsrun.map.__doc__
    assert pickle.loads(pickle.dumps(wsrun.map(lambda i: i, 1))) == [0]


def test_a_program_with_another_thread():
    # The template is forked beside a running thread (docs/python.md, "A
    # program that already has threads"): the tasks see the caller's data.
    import threading

    go = threading.Event()
    t = threading.Thread(target=go.wait)
    t.start()
    try:
        assert wsrun.map(lambda i: i + 1, 30, jobs=2) == list(range(1, 31))
    finally:
        go.set()
        t.join()


def test_retries_after_a_dead_process(tmp_path):
    def f(i):
        mark = tmp_path / str(i)
        if i == 5 and not mark.exists():
            mark.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return i

    assert wsrun.map(f, 40, jobs=2, retries=1) == list(range(40))
    no_children_left()


def test_large_results_come_back_whole():
    got = wsrun.map(lambda i: bytes([i]) * (300000 + i), 24, jobs=2)
    assert [len(b) for b in got] == [300000 + i for i in range(24)]
    assert all(b == bytes([i]) * (300000 + i) for i, b in enumerate(got))

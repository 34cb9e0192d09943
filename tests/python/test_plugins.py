# tests/python/test_plugins.py - wsrun.run, wsrun.fill and wsrun.read of
# the wsrun package (make test-python: pytest with PYTHONPATH=build/python
# and WSRUN_BUILD).  Plugins run in this process on libwsrun pools; the
# outcomes checked are files and their bytes, arrays, rows and messages,
# never durations.  Must never write outside pytest's tmp_path (fill and
# read get tmpdir= inside it, so a file they left behind would be seen).
import os
import signal
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import wsrun

BUILD = os.path.abspath(os.environ.get("WSRUN_BUILD", "build"))
WSRUN = os.path.join(BUILD, "wsrun")


def cli(*args, cwd):
    subprocess.run([WSRUN, *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def png_pixels(path):
    # The test's own decoder (zlib + struct, 8-bit gray or RGB, filters
    # 0-4): a second reading of the files, sharing no code with libpng.
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (0, 2)
    ch = 1 if ctype == 0 else 3
    raw = zlib.decompress(idat)
    stride = w * ch
    out = bytearray(h * stride)
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    shape = (h, w) if ch == 1 else (h, w, ch)
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(shape)


@pytest.fixture
def images(tmp_path):
    # 12 noise images of 20x10 written by the command, two row filters.
    d = tmp_path / "img"
    d.mkdir()
    cli("--plugin", "noise", "--count", "12", "--seed", "5", "-o", "prefix=img/im_",
        "-o", "width=20", "-o", "height=10", "-o", "filter=adaptive", "-o", "level=6",
        cwd=tmp_path)
    return tmp_path, [str(d / ("im_%d.png" % i)) for i in range(12)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_noise_equals_the_command(tmp_path, monkeypatch, jobs):
    (tmp_path / "py").mkdir()
    (tmp_path / "cli").mkdir()
    cli("--plugin", "noise", "--count", "30", "--seed", "7", "-o", "prefix=cli/n_",
        cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    stats = wsrun.run("noise", 30, jobs=jobs, seed=7, options={"prefix": "py/n_"})
    assert stats["count"] == 30 and stats["done"] == 30 and stats["failed"] == 0
    assert stats["jobs"] == jobs
    assert set(stats) == {"jobs", "count", "done", "failed", "wall_ns", "tasks", "steals",
                          "steal_tries"}
    names = sorted(os.listdir(tmp_path / "py"))
    assert names == sorted("n_%d.png" % i for i in range(30))
    for n in names:
        assert (tmp_path / "py" / n).read_bytes() == (tmp_path / "cli" / n).read_bytes(), n


def test_run_template_by_path():
    # The plugin prints its total from C (stdout): run in a child to read it.
    so = os.path.join(BUILD, "plugins", "template.so")
    code = ("import wsrun; s = wsrun.run(%r, 1000, jobs=2, options=['scale=3']); "
            "print('done', s['done'], flush=True)" % so)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    # C's stdio and Python's sys.stdout buffer apart, so the two lines may
    # come in either order (seen reversed in a fresh root under load).
    assert sorted(out.splitlines()) == ["done 1000", "template: total 1498500 over 1000 indices"]


def test_run_missing_plugin():
    with pytest.raises(wsrun.RunError) as got:
        wsrun.run("no-such-plugin")
    assert str(got.value).startswith("plugin 'no-such-plugin' not found (looked in: ")
    assert got.value.status == 2
    with pytest.raises(wsrun.RunError) as got:
        wsrun.run("./nowhere/x.so")
    assert str(got.value) == "plugin './nowhere/x.so' not found: No such file or directory"


def test_run_refuses_the_python_plugin():
    with pytest.raises(wsrun.RunError) as got:
        wsrun.run("python", 1, options={"script": "x.py", "function": "f"})
    assert str(got.value) == ("plugin python: the python plugin cannot run inside Python (it "
                              "embeds an interpreter of its own): call wsrun.map instead")


def test_run_bad_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(wsrun.RunError) as got:
        wsrun.run("noise", 3, options=["level=abc"])
    assert str(got.value) == "option 'level': expected a whole number, got 'abc'"
    assert got.value.status == 2
    with pytest.raises(wsrun.RunError) as got:
        wsrun.run("noise", 3, options={"colour": 1})
    assert "colour" in str(got.value)
    assert os.listdir(tmp_path) == []


def test_fill_equals_another_decoding(images, tmp_path, capfd):
    root, paths = images
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    want = np.stack([png_pixels(p) for p in paths])
    for inputs in (str(root / "img" / "im_*.png"), paths, str(root / "img")):
        a = wsrun.fill(inputs, jobs=2, tmpdir=scratch)
        assert a.shape == (12, 10, 20) and a.dtype == np.uint8
        assert a.flags.owndata and a.flags.c_contiguous and a.flags.writeable
        assert np.array_equal(a, want)
    assert os.listdir(scratch) == []  # no file left behind
    assert capfd.readouterr().err == ""  # quiet: no "wrote <temporary>" line
    a = wsrun.fill(paths, 5, tmpdir=scratch)
    assert np.array_equal(a, want[:5])
    assert os.listdir(scratch) == []


def test_fill_noise_source_equals_files(images, tmp_path):
    _, paths = images
    a = wsrun.fill(source="noise", count=12, width=20, height=10, seed=5, tmpdir=tmp_path)
    b = wsrun.fill(paths, tmpdir=tmp_path)
    assert np.array_equal(a, b)
    u = wsrun.fill(source="constant", count=3, width=4, height=2, dtype=np.uint16,
                   value=513, tmpdir=tmp_path)
    assert u.dtype == np.uint16 and u.shape == (3, 2, 4) and (u == 513).all()
    assert os.listdir(tmp_path) == ["img"]


def test_fill_failed_index_names_it(images, tmp_path):
    _, paths = images
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(wsrun.TaskError) as got:
        wsrun.fill(paths[:3] + [str(bad)] + paths[3:], jobs=1, tmpdir=scratch)
    e = got.value
    assert e.index == 3
    # The temporary list file's "LIST:LINE: " is not in the message.
    assert e.text.startswith(str(bad) + ": not a PNG file"), e.text
    assert str(e).startswith("index 3: " + str(bad)), str(e)
    assert e.stats["failed"] >= 1
    assert os.listdir(scratch) == []
    with pytest.raises(wsrun.RunError) as got:
        wsrun.fill(str(tmp_path / "none_*.png"), tmpdir=scratch)
    assert got.value.status == 2 and "fill: init failed: " in str(got.value)
    assert os.listdir(scratch) == []


def test_read_rows(images, tmp_path):
    _, paths = images
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    rows = wsrun.read(paths, jobs=2, tmpdir=scratch)
    assert [r["index"] for r in rows] == list(range(12))
    assert [r["path"] for r in rows] == paths
    for r in rows:
        assert (r["width"], r["height"], r["channels"], r["bit_depth"], r["bytes"]) == \
            (20, 10, 1, 8, 200)
        assert type(r["width"]) is int and len(r["xxh64"]) == 16
    assert len({r["xxh64"] for r in rows}) == 12
    # The same rows as the command's CSV manifest.
    csv = subprocess.run([WSRUN, "--plugin", "read", "-o", "input=" + paths[0].replace(
        "im_0.png", "im_%d.png")], capture_output=True, text=True, check=True).stdout
    lines = csv.splitlines()[1:]
    assert [l.split(",")[-1] for l in lines] == [r["xxh64"] for r in rows]
    assert wsrun.read(paths, verify=True, seed=5, tmpdir=scratch) == rows
    with pytest.raises(wsrun.TaskError) as got:
        wsrun.read(paths, verify=True, seed=6, jobs=1, tmpdir=scratch)
    assert got.value.index == 0 and "pixels differ from noise image 0 of seed 6" in \
        got.value.text
    assert os.listdir(scratch) == []


def _sigint_when(event):
    # A thread that sends this process SIGINT once event(abandon) returns
    # True (it waits on an event: a FIFO opened, a file made); set
    # t.abandon when the call under test ended without it, so the join
    # cannot wait for ever.
    import threading

    abandon = threading.Event()

    def wait_then_interrupt():
        if event(abandon):
            os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=wait_then_interrupt)
    t.abandon = abandon
    t.start()
    return t


def _wait_for_file(path, abandon):
    import time

    while not os.path.exists(path):
        if abandon.is_set():
            return False
        time.sleep(0.001)  # a polling interval, not a deadline
    return True


def test_ctrl_c_stops_a_running_run(tmp_path):
    # Every index of holdwrite writes half its file, then waits while
    # hold_file exists or until the run stops (ws_stopping); the first to
    # wait makes started_file.  SIGINT comes then, and hold_file is never
    # removed: only the stop can end the run (or the watchdog's limit).
    out = tmp_path / "out"
    out.mkdir()
    hold = tmp_path / "hold"
    hold.write_text("")
    started = tmp_path / "started"
    holdwrite = os.path.join(BUILD, "test-plugins", "holdwrite.so")
    assert os.path.exists(holdwrite), holdwrite + " is not built (make test-plugins)"
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    t = _sigint_when(lambda abandon: _wait_for_file(started, abandon))
    try:
        with pytest.raises(KeyboardInterrupt):
            wsrun.run(holdwrite, 1000, jobs=2,
                      quiet=True, options={"prefix": str(out / "d_"), "hold_from": 0,
                                           "hold_file": str(hold),
                                           "started_file": str(started)})
    finally:
        t.abandon.set()  # the run ended without its started file: no SIGINT comes
        t.join()
        # Python's handler is back after the run (read before the test puts
        # back what it found: SIG_IGN where make test was started in the
        # background, as CI and check-fresh may do).
        after = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, old)
    assert after is signal.default_int_handler
    # Stopped early: only the indices holding when it came (at most one
    # per worker) finished their files; no new one started.
    files = sorted(os.listdir(out))
    assert 1 <= len(files) <= 2, files
    assert all(len((out / f).read_bytes()) == 4096 for f in files)
    assert hold.exists()
    # A later run is whole.
    stats = wsrun.run(holdwrite, 5, jobs=2,
                      options={"prefix": str(tmp_path / "e_")})
    assert stats["done"] == 5


def test_ctrl_c_in_init_stops_fill_and_leaves_nothing(images, tmp_path):
    # fill's init reads its list from a FIFO: once it has opened it (the
    # writer's open returns) a SIGINT is sent, then the list is written.
    # No index starts, finish runs, and the temporary folder is removed.
    _, paths = images
    fifo = tmp_path / "list.fifo"
    os.mkfifo(fifo)
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def writer():
        with open(fifo, "w") as f:  # returns once the plugin opened the FIFO
            os.kill(os.getpid(), signal.SIGINT)
            f.write("\n".join(paths) + "\n")

    import threading

    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    t = threading.Thread(target=writer)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            wsrun.fill(str(fifo), jobs=2, tmpdir=scratch)
    finally:
        t.join()
        signal.signal(signal.SIGINT, old)
    assert os.listdir(scratch) == []
    assert wsrun.fill(paths, jobs=2, tmpdir=scratch).shape == (12, 10, 20)
    assert os.listdir(scratch) == []

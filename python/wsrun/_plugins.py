# wsrun/_plugins.py - wsrun.run, wsrun.fill and wsrun.read of the wsrun
# package (docs/python.md, "Plugins in-process"): a plugin file run on a
# libwsrun pool inside this process (python/wsrun_run.c), and the built-in
# fill and read plugins with their outputs handed back as Python objects.
# Must never leave a file behind (fill's array and read's manifest live in
# a private temporary folder removed before the call returns, also on an
# error or a Ctrl-C) and never hide libwsrun's message.
import json as _json
import os as _os
import re as _re
import threading as _threading

from . import _wsrun

_STATUS_NAMES = {1: "failed", 2: "refused"}
# embed.c's wording for a failed index: "NAME: index N failed: TEXT".
_FAILED_INDEX = _re.compile(r"[^:]*: index (\d+) failed: (.*)\Z", _re.S)


class RunError(RuntimeError):
    """A plugin run of wsrun.run (or fill, read) that could not start or
    failed as a whole: the plugin could not be opened, an option or the
    count was refused, init or finish failed.  str(e) is libwsrun's one-line
    message; .status is 2 when nothing ran (as wsrun's exit status 2) and 1
    when the run failed after init; .stats is the run's statistics (a dict,
    or None when nothing ran)."""

    def __init__(self, message, status, stats=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.stats = stats


def _option_texts(options):
    if options is None:
        return []
    if isinstance(options, dict):
        items = options.items()
    elif isinstance(options, (str, bytes)):
        raise TypeError("options must be a dict or a list of 'key=value' strings, not one "
                        "string")
    else:
        texts = list(options)
        for t in texts:
            if not isinstance(t, str):
                raise TypeError("options: each must be a 'key=value' str, not %s"
                                % type(t).__name__)
        return texts
    texts = []
    for k, v in items:
        if isinstance(v, bool):
            v = "true" if v else "false"
        texts.append("%s=%s" % (k, v))
    return texts


def _fail(message, status, stats):
    from . import Failure, TaskError  # the package's own classes

    m = _FAILED_INDEX.match(message) if status == 1 else None
    if m:
        err = TaskError([Failure(int(m.group(1)), None, m.group(2))], {})
        err.message = message
        err.stats = stats
        return err
    return RunError(message, status, stats)


def run(plugin, count=None, *, jobs=None, seed=0, options=None, stack_bytes=None,
        quiet=False):
    """Run a wsrun plugin in this process; return its statistics as a dict.

    plugin: a built-in name ("noise", "read", "fill", "fib", ...; with or
    without ".so") or a path to a plugin file (anything with a "/"), found
    and checked exactly as `wsrun --plugin X` does (docs/embedding.md,
    ws_plugin_open).  count: the indices (None: the plugin's init chooses,
    as without --count).  jobs: worker threads (default: the CPUs this
    process may use).  seed: --seed.  options: the plugin's -o options, a
    dict ({"prefix": "out/img_", "level": 6}; True/False become
    true/false) or a list of "key=value" strings.  stack_bytes: each
    worker's C stack (--stack; default 64 MiB).  quiet: leave out the
    plugin's ws_log lines (--quiet; failed indices are still printed).

    Returns {"jobs", "count", "done", "failed", "wall_ns", "tasks",
    "steals", "steal_tries"} (libwsrun's ws_pool_stats).

    The plugin runs on threads of a libwsrun pool with the interpreter
    lock released, so other Python threads keep running; its ws_log lines
    and failed indices are printed on stderr as the command prints them.
    Raises wsrun.TaskError (.index, .text: the lowest failed index and its
    message; .stats) when an index failed, and wsrun.RunError (str(e):
    libwsrun's one-line message; .status 2 when nothing ran, 1 when the run
    failed after init; .stats) when the plugin cannot be opened, an option
    or the count is refused, or init or finish failed.  The python plugin
    is refused (its own interpreter would crash in this one: use map).  On the
    main thread, a Ctrl-C stops the run (ws_pool_stop: no new index starts,
    running ones see ws_stopping, finish runs) and KeyboardInterrupt is
    raised once it has returned.
    """
    from . import _cpus

    if not isinstance(plugin, (str, _os.PathLike)):
        raise TypeError("wsrun.run: plugin must be a name or a path, not %s"
                        % type(plugin).__name__)
    plugin = _os.fspath(plugin)
    if count is not None:
        count = int(count)
        if count < 0 or count > (1 << 63) - 1:
            raise ValueError("wsrun.run: the count must be 0..2^63-1, not %d" % count)
    jobs = _cpus() if jobs is None else int(jobs)
    if jobs < 1 or jobs > 4096:
        raise ValueError("wsrun.run: jobs must be 1..4096, not %d" % jobs)
    return _run(plugin, count, jobs, seed, options, stack_bytes, quiet, None)


def _run(plugin, count, jobs, seed, options, stack_bytes, quiet, rewrite):
    # wsrun.run's work; rewrite(message) words libwsrun's message for
    # fill and read, whose temporary names mean nothing to the caller.
    stack = 0 if stack_bytes is None else int(stack_bytes)
    # On the main thread (where Python runs signal handlers) a Ctrl-C stops
    # the run and raises KeyboardInterrupt after it.
    main = _threading.current_thread() is _threading.main_thread()
    status, message, stats, _name = _wsrun.run(plugin, count, jobs, int(seed) & ((1 << 64) - 1),
                                               stack, bool(quiet), _option_texts(options), main)
    if rewrite is not None:
        message = rewrite(message)
    if status == -1:
        raise RunError(message, 2)
    if status != 0:
        raise _fail(message, status, stats)
    return stats


def _tempdir(tmpdir):
    # /dev/shm when it is there: the array is read back from memory, and
    # a tmpfs file costs no disk.  The folder is made here rather than by
    # tempfile.mkdtemp: tempfile imports shutil, bz2 and lzma, about 7
    # million instructions of every fill and read (docs/benchmarks.md).
    if tmpdir is None:
        tmpdir = _os.environ.get("TMPDIR")
        if not tmpdir and _os.path.isdir("/dev/shm") and _os.access("/dev/shm", _os.W_OK):
            tmpdir = "/dev/shm"
    if not tmpdir:
        import tempfile  # its search of TEMP, TMP, /tmp, /var/tmp, ...

        return tempfile.mkdtemp(prefix="wsrun-py.")
    for _ in range(100):
        # 48 random bits, mode 0700 and mkdir's refusal of an existing
        # name: what mkdtemp promises.
        name = _os.path.join(_os.fspath(tmpdir), "wsrun-py." + _os.urandom(6).hex())
        try:
            _os.mkdir(name, 0o700)
        except FileExistsError:
            continue
        return _os.path.abspath(name)
    raise FileExistsError("wsrun: no unused temporary folder name in %s" % tmpdir)


def _remove(folder):
    # The folder holds plain files only (inputs.txt, the output, a
    # plugin's temporary); shutil.rmtree for anything else.
    try:
        for entry in _os.listdir(folder):
            _os.unlink(_os.path.join(folder, entry))
        _os.rmdir(folder)
    except OSError:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def _input_option(inputs, folder):
    # A str or path: the plugin's own -o input (glob, folder, list file,
    # image_%d.png, one image).  A list of paths: written as a list file.
    if isinstance(inputs, (str, _os.PathLike)):
        spec = _os.fspath(inputs)
        if not spec:
            raise ValueError("inputs: an empty name")
        return spec
    paths = [_os.fspath(p) for p in inputs]
    if not paths:
        raise ValueError("inputs: an empty list of paths")
    for p in paths:
        if not p or "\n" in p or "\r" in p or "\0" in p:
            raise ValueError("inputs: path %r cannot be listed (empty, a line break or a NUL)"
                             % (p,))
    name = _os.path.join(folder, "inputs.txt")
    with open(name, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(paths) + "\n")
    return name


def _run_in_temp(plugin, count, jobs, seed, opts, inputs, tmpdir, after):
    from . import _cpus

    jobs = _cpus() if jobs is None else int(jobs)
    if jobs < 1 or jobs > 4096:
        raise ValueError("wsrun.%s: jobs must be 1..4096, not %d" % (plugin, jobs))
    folder = _tempdir(tmpdir)

    def rewrite(message):
        # A list of paths was written as a list file: its "LIST:LINE: "
        # before a path is the temporary's name, not the caller's.
        message = _re.sub(_re.escape(_os.path.join(folder, "inputs.txt")) + r":\d+: ", "",
                          message)
        return message.replace(_os.path.join(folder, "out"), "the %s output" % plugin)

    try:
        if inputs is not None:
            opts["input"] = _input_option(inputs, folder)
        out = _os.path.join(folder, "out")
        opts["output"] = out
        stats = _run(plugin, None if count is None else int(count), jobs, seed, opts, None,
                     True, rewrite)
        return after(out, stats)
    finally:
        _remove(folder)


def _load_npy(path):
    import numpy

    with open(path, "rb") as f:
        _os.unlink(path)  # nothing on disk from here: the descriptor holds it
        version = numpy.lib.format.read_magic(f)
        shape, fortran, dtype = numpy.lib.format._read_array_header(f, version)
        array = numpy.empty(shape, dtype=dtype, order="F" if fortran else "C")
        view = memoryview(array.reshape(-1).view(numpy.uint8)) if array.size else b""
        got = f.readinto(view) if array.size else 0
        if got != array.nbytes:
            raise RunError("fill: the array file ended after %d of %d bytes" %
                           (got, array.nbytes), 1)
    return array


def fill(inputs=None, count=None, *, source="files", width=None, height=None, channels=None,
         dtype=None, value=None, convert=None, max_pixels=None, jobs=None, seed=0,
         tmpdir=None):
    """Run the built-in fill plugin; return its array as a numpy.ndarray.

    The array is (N, H, W) for one channel, (N, H, W, C) otherwise, uint8
    or uint16, and owns its memory: the plugin writes a .npy in a private
    temporary folder (tmpdir: default $TMPDIR, else /dev/shm, else the
    system's), which is read into the array and removed before fill
    returns, also on an error, so no file is left behind.

    inputs (source="files"): image i of the array is file i of
    inputs: a glob ("image_*.png", natural order), a folder, a list file
    (one path per line), "image_%d.png", one image, or a list of paths.
    count: the first count files (None: all of them); required for the
    other sources ("noise": the noise plugin's pixels for seed, "constant":
    value everywhere, "index": i mod 256 or 65536 in image i), which also
    need width and height.  width, height, channels (1..4), dtype ("u8",
    "u16", numpy.uint8, numpy.uint16): the shape, by default the first
    file's.  convert: "keep", "gray" or "rgb".  max_pixels: refuse larger
    images.  docs/read-fill.md has every option.

    Raises wsrun.TaskError for a file that cannot be decoded or has
    another shape (.index names it), wsrun.RunError for a refused option
    or a failed init (no such input, for instance).
    """
    fill_opts = {"source": source}
    if source == "files" and inputs is None:
        raise ValueError("wsrun.fill: inputs are required for source='files'")
    for k, v in (("width", width), ("height", height), ("channels", channels),
                 ("dtype", _dtype_name(dtype)), ("value", value), ("convert", convert),
                 ("max-pixels", max_pixels)):
        if v is not None:
            fill_opts[k] = v
    return _run_in_temp("fill", count, jobs, seed, fill_opts, inputs, tmpdir,
                        lambda out, stats: _load_npy(out))


def _dtype_name(dtype):
    if dtype is None or dtype in ("u8", "u16"):
        return dtype
    import numpy

    d = numpy.dtype(dtype)
    if d == numpy.uint8:
        return "u8"
    if d == numpy.uint16:
        return "u16"
    raise ValueError("wsrun.fill: dtype must be uint8 or uint16 ('u8', 'u16'), not %r"
                     % (dtype,))


def _rows(out, stats):
    with open(out, "rb") as f:
        manifest = _json.loads(f.read().decode("utf-8", "surrogateescape"))
    return manifest["files"]


def read(inputs, count=None, *, mode=None, convert=None, verify=None, max_pixels=None,
         jobs=None, seed=0, tmpdir=None):
    """Run the built-in read plugin; return the manifest's rows as a list.

    Row i is a dict for file i of inputs (a glob, a folder, a list file,
    "image_%d.png", one image, or a list of paths; see wsrun.fill):
    {"index": int, "path": str, "width": int, "height": int, "channels":
    int, "bit_depth": int, "bytes": int (the decoded pixels' size),
    "xxh64": str (XXH64 of those bytes, 16 hex digits)}, in index order
    whichever worker read the file.  count: the first count files.  mode:
    "png" (default), "raw" (checksum the file's bytes) or "auto".  convert:
    "keep", "gray" or "rgb".  verify: compare each image with the noise
    plugin's pixels for seed.  The manifest is written in a temporary
    folder (tmpdir, as for fill) and removed before read returns.

    Raises wsrun.TaskError for a file that cannot be read or decoded
    (.index names it), wsrun.RunError for a refused option or a failed
    init.
    """
    opts = {"format": "json"}
    for k, v in (("mode", mode), ("convert", convert), ("verify", verify),
                 ("max-pixels", max_pixels)):
        if v is not None:
            opts[k] = v
    return _run_in_temp("read", count, jobs, seed, opts, inputs, tmpdir, _rows)

# wsrun/_common.py - the Python code the `wsrun` package and the python
# plugin share: the per-index random state (wsrun.rng, the reseeding of
# random and numpy.random) and whole-line output of tasks.  The plugin
# compiles this file into python.so before wsrun_boot.py (one namespace),
# so a script run by the plugin and a function run by wsrun.map see the
# same numbers for the same (seed, index), and print the same way.  Must
# never import numpy unless the caller asked for numpy's state, and never
# keep state of its own beyond what the functions are given.
import sys

MASK64 = (1 << 64) - 1


def mix64(z):
    # SplitMix64's finaliser, exactly ws_mix64 of include/wsrun.h.
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def outputs(seed, index, first, n):
    # Outputs first..first+n-1 (from 1) of index's stream: ws_rng_make and
    # ws_rng_next of include/wsrun.h, the stream noise uses.
    key = mix64((seed ^ mix64((index + 0x632BE59BD9B4E019) & MASK64)) & MASK64)
    return [mix64((key + k * 0x9E3779B97F4A7C15) & MASK64) for k in range(first, first + n)]


def words(seed, index, first, n):
    # 32-bit words first..first+n-1 (from 0): each output gives its low
    # word, then its high word.
    out = outputs(seed, index, 1 + first // 2, (n + 1 + first % 2) // 2 + 1)
    w = [half for v in out for half in (v & 0xFFFFFFFF, v >> 32)]
    return w[first % 2:first % 2 + n]


def rng(index, seed=None):
    """numpy.random.Generator for `index`: the same for any number of jobs.

    seed defaults to the current run's (wsrun.seed: the plugin's --seed, or
    the seed= of the wsrun.map call this function runs in; 0 elsewhere).
    Outputs 625 and 626 of the index's stream seed numpy's default_rng, so
    it never overlaps the words that reseed random and numpy.random.
    """
    import numpy

    if seed is None:
        seed = getattr(sys.modules.get("wsrun"), "seed", 0)
    a, b = outputs(int(seed) & MASK64, int(index), 625, 2)
    return numpy.random.default_rng((a << 64) | b)


def numpy_state():
    """numpy's global RandomState's bit generator capsule, or None."""
    np_random = sys.modules.get("numpy.random")
    if np_random is None:
        return None
    try:
        rs = np_random.mtrand._rand
        return (rs.seed, rs._bit_generator.capsule, rs.get_state, rs)
    except AttributeError:
        return None


def numpy_gauss(rs, has_gauss, gauss):
    # Set the legacy cached Gaussian; return what get_state reports.
    st = rs.get_state()
    rs.set_state((st[0], st[1], st[2], has_gauss, gauss))
    st = rs.get_state()
    return (st[3], st[4])


def reseed_slow(seed, index, with_numpy):
    # The public path to the state python_seed.h writes directly.
    import random

    w = words(seed, index, 0, 1248)
    random.setstate((3, tuple(w[:624]) + (624,), None))
    if with_numpy:
        import numpy

        state = numpy.array(w[624:], dtype=numpy.uint32)
        numpy.random.set_state(("MT19937", state, 624, 0, 0.0))


def whole_lines(f):
    # A new text layer over a buffered one: a line is written when it ends
    # (line_buffering), in one write up to 64 KiB.  sys.__stdout__ keeps
    # the old layer alive, so the file it shares is not closed.
    import io

    if f is None or not hasattr(f, "buffer"):
        return f
    f.flush()
    buffer = f.buffer
    if isinstance(buffer, io.RawIOBase):
        buffer = io.BufferedWriter(buffer, buffer_size=1 << 16)
    return io.TextIOWrapper(buffer, encoding=f.encoding, errors=f.errors,
                            line_buffering=True)

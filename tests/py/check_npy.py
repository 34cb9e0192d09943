"""check_npy.py - a real NumPy consumer for the fill plugin's output.

Run with Debian's /usr/bin/python3 (python3-numpy).  Loads the .npy twice,
with numpy.load and with mmap_mode='r', and checks shape, dtype and the
given sample values in both.  Exits 0 when everything matches, 1 with one
line per mismatch otherwise, 2 on bad arguments.  Never writes anything.

usage: check_npy.py FILE.npy SHAPE DTYPE [I,Y,X[,C]=VALUE ...]
  SHAPE  comma-separated, e.g. 2000,100,100
  DTYPE  uint8 or uint16
"""
import sys

import numpy as np


def main(argv):
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    path, shape_text, dtype_text = argv[1:4]
    want_shape = tuple(int(s) for s in shape_text.split(","))
    want_dtype = np.dtype(dtype_text)
    samples = []
    for item in argv[4:]:
        where, value = item.split("=")
        samples.append((tuple(int(s) for s in where.split(",")), int(value)))

    problems = []
    loaded = np.load(path)
    mapped = np.load(path, mmap_mode="r")
    for name, arr in (("load", loaded), ("mmap", mapped)):
        if arr.shape != want_shape:
            problems.append(f"{name}: shape {arr.shape}, expected {want_shape}")
        if arr.dtype != want_dtype:
            problems.append(f"{name}: dtype {arr.dtype}, expected {want_dtype}")
        if not arr.flags["C_CONTIGUOUS"]:
            problems.append(f"{name}: not C-contiguous")
        if problems:
            break
        for where, value in samples:
            got = int(arr[where])
            if got != value:
                problems.append(f"{name}: {where} is {got}, expected {value}")
    if not problems and not np.array_equal(loaded, mapped):
        problems.append("load and mmap_mode='r' give different arrays")
    if isinstance(mapped, np.memmap) is False:
        problems.append("mmap_mode='r' did not give a memory map")
    for p in problems:
        print(p)
    if not problems:
        print(f"ok: {path} {loaded.shape} {loaded.dtype}, {len(samples)} samples match")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

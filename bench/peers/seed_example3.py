"""seed_example3.py - bench peer: the seed's Example 3 as its author ran it.

Fills one N x H x W NumPy array from image_*.png with multiprocessing: the
first image gives the shape, the array lives in a sharedctypes.RawArray kept
in a module global (so forked workers see it), and Pool.map over the indices
has worker i decode file i with OpenCV straight into slot i.  Files are
sorted the way the seed sorts them (plain sorted(), so image_10 comes before
image_2); the order does not change the work.  Run with /usr/bin/python3
(python3-numpy, python3-opencv).  Never writes a file unless --save is given.

usage: seed_example3.py FOLDER [--save OUT.npy]
"""
import ctypes
import glob
import multiprocessing as mp
import multiprocessing.sharedctypes
import os
import sys

import cv2
import numpy as np

shared = None  # the RawArray, set before the pool forks
shape = None
files = None


def as_array():
    return np.frombuffer(shared, dtype=np.uint8).reshape(shape)


def fill_one(index):
    as_array()[index] = cv2.imread(files[index], cv2.IMREAD_UNCHANGED)
    return index


def main(argv):
    global shared, shape, files
    folder = argv[1] if len(argv) > 1 else "."
    files = sorted(glob.glob(os.path.join(folder, "image_*.png")))
    if not files:
        print(f"seed_example3: no image_*.png in {folder}", file=sys.stderr)
        return 1
    first = cv2.imread(files[0], cv2.IMREAD_UNCHANGED)
    shape = (len(files),) + first.shape
    shared = mp.sharedctypes.RawArray(ctypes.c_uint8, int(np.prod(shape)))
    with mp.Pool(mp.cpu_count()) as pool:
        pool.map(fill_one, range(len(files)))
    result = as_array()
    if "--save" in argv:
        np.save(argv[argv.index("--save") + 1], result)
    print(f"filled {result.shape} {result.dtype}, sum {int(result.sum(dtype=np.uint64))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

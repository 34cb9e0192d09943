#!/usr/bin/python3
"""seed_example1.py - benchmark peer: the seed post's Example 1 (2000 noise
images, 100x100 gray, numpy + cv2, multiprocessing.Pool mapped over single
indices) as the post runs it, minus its per-file print, with the output
folder as an argument and the pool's process count too (PROCS, default 2
as in the post).  Measuring only: it must never be changed to run faster
than the post's version; the process count is the one thing that differs,
and only as a parameter, so a larger machine can give the post's code as
many processes as wsrun gets workers.

Run with Debian's /usr/bin/python3 (python3-numpy, python3-opencv), or
any python3 that imports numpy and cv2:
    /usr/bin/python3 bench/peers/seed_example1.py OUTDIR [COUNT [PROCS]]
"""
import multiprocessing as mp
import os
import sys
from functools import partial

import cv2
import numpy as np


def write_one_file(size_x, size_y, name_prefix, index):
    # As in the post: float64 noise in [0, 255), which cv2.imwrite turns
    # into 8-bit gray.
    arr = 255 * np.random.rand(size_x, size_y)
    cv2.imwrite(name_prefix + str(index) + '.png', arr)


def main():
    if len(sys.argv) not in (2, 3, 4):
        sys.exit('usage: seed_example1.py OUTDIR [COUNT [PROCS]]')
    n_images = int(sys.argv[2]) if len(sys.argv) >= 3 else 2000
    procs = int(sys.argv[3]) if len(sys.argv) == 4 else 2
    if procs < 1:
        sys.exit('seed_example1.py: PROCS must be at least 1')
    size_x, size_y = 100, 100
    wrapper = partial(write_one_file, size_x, size_y,
                      os.path.join(sys.argv[1], 'image_'))
    pool = mp.Pool(procs)
    pool.map(wrapper, range(n_images))
    pool.close()
    pool.join()


if __name__ == '__main__':
    main()

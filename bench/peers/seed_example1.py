#!/usr/bin/python3
"""seed_example1.py - benchmark peer: the seed post's Example 1 (2000 noise
images, 100x100 gray, numpy + cv2, multiprocessing.Pool mapped over single
indices) as the post runs it, minus its per-file print, with 2 processes
and the output folder as an argument.  Measuring only: it must never be
changed to run faster than the post's version, or the comparison is void.

Run with Debian's /usr/bin/python3 (python3-numpy, python3-opencv):
    /usr/bin/python3 bench/peers/seed_example1.py OUTDIR [COUNT]
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
    if len(sys.argv) not in (2, 3):
        sys.exit('usage: seed_example1.py OUTDIR [COUNT]')
    n_images = int(sys.argv[2]) if len(sys.argv) == 3 else 2000
    size_x, size_y = 100, 100
    wrapper = partial(write_one_file, size_x, size_y,
                      os.path.join(sys.argv[1], 'image_'))
    pool = mp.Pool(2)
    pool.map(wrapper, range(n_images))
    pool.close()
    pool.join()


if __name__ == '__main__':
    main()

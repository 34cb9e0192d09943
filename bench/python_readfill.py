# bench/python_readfill.py - the seed's Examples 2 and 3 against wsrun.read
# and wsrun.fill of the wsrun package, for bench/python_map.sh: one run of
# one way, timed from outside as a whole process.  Every mode reads the
# FOLDER's image_*.png and prints one line the bench compares across modes
# (the pixel sum, or the row count), so a wrong result is never timed.
# Must never write a file.
#
#   python3 python_readfill.py MODE JOBS FOLDER
#
#   ex2pool  the seed's Example 2: the sorted list cut by hand into JOBS
#            equal slices, one Process each, cv2.imread of every file
#            appended to a Manager().list() (in no particular order)
#   ex2fill  the same list of images from wsrun.fill (list(array): in order)
#   ex2read  wsrun.read: the manifest's rows (sizes and checksums, no pixels)
#   ex3pool  the seed's Example 3: Pool(JOBS).map decoding file i into slot
#            i of a sharedctypes.RawArray held in a global
#   ex3fill  wsrun.fill: the array
import ctypes
import glob
import multiprocessing as mp
import multiprocessing.sharedctypes
import os
import sys

import numpy as np

MODE, JOBS, FOLDER = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PATTERN = os.path.join(FOLDER, "image_*.png")

shared = shape = files = None


def read_files(paths, images):
    import cv2

    for f in paths:
        images.append(cv2.imread(f, cv2.IMREAD_GRAYSCALE))


def fill_one(index):
    import cv2

    np.frombuffer(shared, dtype=np.uint8).reshape(shape)[index] = \
        cv2.imread(files[index], cv2.IMREAD_GRAYSCALE)


def pixel_sum(images):
    return sum(int(a.sum(dtype=np.uint64)) for a in images)


def main():
    global shared, shape, files
    if MODE == "ex2pool":
        paths = sorted(glob.glob(PATTERN))
        assert len(paths) % JOBS == 0  # the seed cuts the slices by hand
        per = len(paths) // JOBS
        with mp.Manager() as manager:
            images = manager.list()
            procs = [mp.Process(target=read_files, args=(paths[k * per:(k + 1) * per], images))
                     for k in range(JOBS)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            images = list(images)
        print("sum", pixel_sum(images))
    elif MODE == "ex2fill":
        import wsrun

        images = list(wsrun.fill(PATTERN, jobs=JOBS))
        print("sum", pixel_sum(images))
    elif MODE == "ex2read":
        import wsrun

        print("rows", len(wsrun.read(PATTERN, jobs=JOBS)))
    elif MODE == "ex3pool":
        import cv2

        files = sorted(glob.glob(PATTERN))
        first = cv2.imread(files[0], cv2.IMREAD_GRAYSCALE)
        shape = (len(files),) + first.shape
        shared = mp.sharedctypes.RawArray(ctypes.c_uint8, int(np.prod(shape)))
        with mp.Pool(JOBS) as pool:
            pool.map(fill_one, range(len(files)))
        print("sum", int(np.frombuffer(shared, dtype=np.uint8).sum(dtype=np.uint64)))
    elif MODE == "ex3fill":
        import wsrun

        print("sum", int(wsrun.fill(PATTERN, jobs=JOBS).sum(dtype=np.uint64)))
    else:
        sys.exit("python_readfill.py: unknown mode %r" % MODE)


if __name__ == "__main__":
    main()

import glob
import multiprocessing as mp
from multiprocessing import sharedctypes
import numpy as np
import cv2

files = sorted(glob.glob('image_*.png'))
first = cv2.imread(files[0], cv2.IMREAD_GRAYSCALE)
shape = (len(files),) + first.shape
shared = sharedctypes.RawArray('B', len(files) * first.size)  # a global: forked workers share it

def fill_one(index):
    array = np.frombuffer(shared, dtype=np.uint8).reshape(shape)
    array[index] = cv2.imread(files[index], cv2.IMREAD_GRAYSCALE)

if __name__ == "__main__":
    with mp.Pool(mp.cpu_count()) as pool:
        pool.map(fill_one, range(len(files)))
    array = np.frombuffer(shared, dtype=np.uint8).reshape(shape)
    print(array.shape, array.dtype)

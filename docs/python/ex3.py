import glob
import numpy as np
import cv2

files = sorted(glob.glob('image_*.png'))
first = cv2.imread(files[0], cv2.IMREAD_GRAYSCALE)
# The array, as a file every worker process writes into: slot i is files[i].
array = np.lib.format.open_memmap('images.npy', mode='w+', dtype=first.dtype,
                                  shape=(len(files),) + first.shape)

def fill_one(index):
    array[index] = cv2.imread(files[index], cv2.IMREAD_GRAYSCALE)

import glob
import numpy as np
import cv2

files = sorted(glob.glob('image_*.png'))
# The list, as a file every worker process writes into: slot i is files[i].
means = np.lib.format.open_memmap('means.npy', mode='w+', dtype=np.float64,
                                  shape=(len(files),))

def read_one(index):
    means[index] = cv2.imread(files[index], cv2.IMREAD_GRAYSCALE).mean()

import numpy as np
import cv2
from functools import partial

def write_one_file(size_x, size_y, name_prefix, index):
    arr = 255*np.random.rand(size_x,size_y)
    filename = name_prefix + str(index) + '.png'
    print("writing file ",filename)
    cv2.imwrite(filename,arr)

size_x, size_y = 100, 100

wrapper = partial(write_one_file, size_x, size_y, 'image_')

import wsrun

array = wsrun.fill('image_*.png')  # a numpy array that owns its memory
print(array.shape, array.dtype)

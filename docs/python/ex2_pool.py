import glob
import multiprocessing as mp
import cv2

def read_files(files, images):
    for f in files:
        images.append(cv2.imread(f, cv2.IMREAD_GRAYSCALE).mean())

if __name__ == "__main__":
    files = sorted(glob.glob('image_*.png'))
    num_procs = mp.cpu_count()
    assert len(files) % num_procs == 0   # the slices are cut by hand
    per_proc = len(files) // num_procs
    with mp.Manager() as manager:
        means = manager.list()
        procs = [mp.Process(target=read_files,
                            args=(files[k*per_proc:(k+1)*per_proc], means))
                 for k in range(num_procs)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        means = list(means)              # in no particular order
    print(len(means), "means")

/*
 * memset_bench.c - the memory-speed yardstick for `fill -o source=noise`:
 * one thread memsets BYTES of fresh memory and prints the rate.  With FILE,
 * the memory is a shared mapping of a new file there (put it on the same
 * filesystem as fill's array), its blocks reserved with fallocate first;
 * else anonymous memory.  Pages are mapped for the first time inside the
 * timed memset.  Must never keep FILE: it is removed before exit.
 *
 * usage: memset_bench BYTES [FILE]      prints: memset <where> <bytes> <s> <GB/s>
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: memset_bench BYTES [FILE]\n");
        return 2;
    }
    size_t bytes = strtoull(argv[1], NULL, 10);
    const char *file = argc == 3 ? argv[2] : NULL;
    int fd = -1;
    double start = now();
    if (file) {
        fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0644);
        if (fd < 0 || fallocate(fd, 0, 0, (off_t)bytes) != 0) {
            fprintf(stderr, "memset_bench: %s: %s\n", file, strerror(errno));
            if (fd >= 0)
                unlink(file);
            return 1;
        }
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   file ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, fd, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "memset_bench: mmap %zu bytes: %s\n", bytes, strerror(errno));
        if (file)
            unlink(file);
        return 1;
    }
    double set_start = now();
    memset(p, 0x5a, bytes);
    double set_end = now();
    munmap(p, bytes);
    if (file) {
        close(fd);
        unlink(file);
    }
    double secs = set_end - set_start;
    printf("memset %s %zu %.4f %.2f\n", file ? "file-mapping" : "anonymous", bytes, secs,
           (double)bytes / secs / 1e9);
    printf("memset-with-setup %s %zu %.4f %.2f\n", file ? "file-mapping" : "anonymous", bytes,
           set_end - start, (double)bytes / (set_end - start) / 1e9);
    return 0;
}

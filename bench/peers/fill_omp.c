/*
 * fill_omp.c - bench peer for the fill plugin: the hand-written OpenMP loop.
 * It reads the first file's shape, creates OUT.npy at full size under a
 * temporary name, maps it, and a `#pragma omp parallel for` decodes file i
 * with libpng (stdio, one png struct per file) straight into slot i; then it
 * unmaps and renames.  Only 8- or 16-bit gray/RGB(A) files, as the noise
 * plugin writes.  The output is byte-identical to
 *   wsrun --plugin fill -o input=PATTERN -o output=OUT.npy
 * Never leaves OUT.npy behind when a file fails.
 *
 * usage: fill_omp PATTERN COUNT OUT.npy      (threads: OMP_NUM_THREADS)
 * build: gcc -O2 -fopenmp -Itasks bench/peers/fill_omp.c -lpng -lz
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "npy.h"

typedef struct shape {
    uint32_t width, height, channels, depth;
} shape;

/* Decode `path` into dest (NULL: only read the shape).  0 on success. */
static int decode(const char *path, shape *s, unsigned char *dest, const shape *want)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    if (png_get_bit_depth(png, info) == 16)
        png_set_swap(png);
    png_read_update_info(png, info);
    s->width = png_get_image_width(png, info);
    s->height = png_get_image_height(png, info);
    s->channels = png_get_channels(png, info);
    s->depth = png_get_bit_depth(png, info);
    int rc = 0;
    if (dest) {
        if (memcmp(s, want, sizeof *s) != 0) {
            rc = -1;
        } else {
            size_t rowbytes = png_get_rowbytes(png, info);
            rows = malloc(s->height * sizeof *rows);
            for (uint32_t y = 0; y < s->height; y++)
                rows[y] = dest + y * rowbytes;
            png_read_image(png, rows);
            png_read_end(png, NULL);
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fill_omp PATTERN COUNT OUT.npy\n");
        return 2;
    }
    const char *pattern = argv[1];
    long count = atol(argv[2]);
    const char *out = argv[3];
    char path[4096];
    shape first;
    snprintf(path, sizeof path, pattern, 0);
    if (count < 1 || decode(path, &first, NULL, NULL) != 0) {
        fprintf(stderr, "fill_omp: cannot read %s\n", path);
        return 1;
    }
    size_t slot = (size_t)first.width * first.height * first.channels * (first.depth / 8);
    uint64_t dims[4] = {(uint64_t)count, first.height, first.width, first.channels};
    unsigned char header[WSTASK_NPY_HEADER_MAX];
    size_t hlen = wstask_npy_header(header, sizeof header, first.depth == 16 ? "<u2" : "|u1", dims,
                                first.channels == 1 ? 3 : 4);
    size_t total = hlen + slot * (size_t)count;

    char temp[4200];
    snprintf(temp, sizeof temp, "%s.tmp.%ld", out, (long)getpid());
    int fd = open(temp, O_RDWR | O_CREAT | O_EXCL, 0666);
    if (fd < 0 || ftruncate(fd, (off_t)total) != 0) {
        perror(temp);
        return 1;
    }
    unsigned char *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        unlink(temp);
        return 1;
    }
    memcpy(map, header, hlen);

    long failed = -1;
#pragma omp parallel for schedule(dynamic, 8)
    for (long i = 0; i < count; i++) {
        char p[4096];
        shape s;
        snprintf(p, sizeof p, pattern, (int)i);
        if (decode(p, &s, map + hlen + (size_t)i * slot, &first) != 0) {
#pragma omp critical
            failed = i;
        }
    }
    munmap(map, total);
    close(fd);
    if (failed >= 0) {
        snprintf(path, sizeof path, pattern, (int)failed);
        fprintf(stderr, "fill_omp: cannot decode %s (or its shape differs)\n", path);
        unlink(temp);
        return 1;
    }
    if (rename(temp, out) != 0) {
        perror(out);
        unlink(temp);
        return 1;
    }
    return 0;
}

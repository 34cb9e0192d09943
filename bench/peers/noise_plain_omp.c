/*
 * noise_plain_omp.c - the second benchmark peer for the noise plugin: the
 * plainest OpenMP loop over the images a C programmer would write first.
 * `parallel for schedule(dynamic)`, each image's pixels drawn whole
 * (tasks/noise_pixels.h: the plugin's pixels), libpng through stdio
 * (png_init_io) with the plugin's settings (8-bit gray, zlib level 0,
 * filter NONE, default strategy), so its files are byte-identical to the
 * plugin's.  Unlike bench/peers/noise_omp.c it tunes nothing: libpng's own
 * allocator and glibc's malloc as they come (no mallopt), chunks of one
 * image, straight to the final names (no temporary, no rename).
 * Measuring only; it stops at the first error.
 *
 *   OMP_NUM_THREADS=N noise_plain_omp OUTDIR COUNT [width height level [seed]]
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -O2 -fopenmp -Iinclude -Itasks \
 *          $(pkg-config --cflags libpng) bench/peers/noise_plain_omp.c \
 *          -o noise_plain_omp $(pkg-config --libs libpng) -lz
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"
#include "noise_pixels.h"

static long arg(const char *text, const char *what, long lo, long hi)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "noise_plain_omp: %s '%s' must be %ld..%ld\n", what, text, lo, hi);
        exit(2);
    }
    return v;
}

static int save_png(const char *path, unsigned char *pixels, uint32_t width, uint32_t height,
                    int level)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        perror(path);
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "noise_plain_omp: libpng failed on %s\n", path);
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_set_compression_level(png, level);
    png_write_info(png, info);
    for (uint32_t y = 0; y < height; y++)
        png_write_row(png, pixels + (size_t)y * width);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (fclose(fp) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 6 && argc != 7) {
        fprintf(stderr,
                "usage: OMP_NUM_THREADS=N noise_plain_omp OUTDIR COUNT [width height level [seed]]\n");
        return 2;
    }
    const char *dir = argv[1];
    long count = arg(argv[2], "COUNT", 0, 100000000);
    uint32_t width = argc > 3 ? (uint32_t)arg(argv[3], "width", 1, 16384) : 100;
    uint32_t height = argc > 3 ? (uint32_t)arg(argv[4], "height", 1, 16384) : 100;
    int level = argc > 3 ? (int)arg(argv[5], "level", 0, 9) : 0;
    uint64_t seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 0;
    size_t nbytes = (size_t)width * height;
    int failed = 0;

#pragma omp parallel for schedule(dynamic)
    for (long i = 0; i < count; i++) {
        int stop;
#pragma omp atomic read
        stop = failed;
        if (stop)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/image_%ld.png", dir, i);
        unsigned char *pixels = malloc(nbytes);
        if (!pixels || (wstask_noise_pixels(seed, (uint64_t)i, pixels, nbytes),
                        save_png(path, pixels, width, height, level) != 0)) {
#pragma omp atomic write
            failed = 1;
        }
        free(pixels);
    }
    if (failed)
        fprintf(stderr, "noise_plain_omp: stopped at the first error\n");
    return failed ? 1 : 0;
}

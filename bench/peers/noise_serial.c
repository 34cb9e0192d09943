/*
 * noise_serial.c - benchmark peer for the noise plugin: the plain serial C
 * loop a programmer would write by hand with libpng.  Writes the same
 * files as `wsrun --plugin noise` with the plugin's default settings (same
 * pixels from tasks/noise_pixels.h, 8-bit gray, filter NONE, the given
 * zlib level, default strategy), but straight to the final names with
 * stdio: no temporary file and rename, and libpng's default allocator.
 * Must never be used for anything but measuring; it stops at the first
 * error.
 *
 *   noise_serial OUTDIR COUNT [width height level [seed]]
 *
 * Build: cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Itasks \
 *          $(pkg-config --cflags libpng) bench/peers/noise_serial.c \
 *          -o noise_serial $(pkg-config --libs libpng) -lz
 */
#include <inttypes.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsrun.h"
#include "noise_pixels.h"

static long parse_arg(const char *text, const char *what, long lo, long hi)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "noise_serial: %s '%s' must be %ld..%ld\n", what, text, lo, hi);
        exit(2);
    }
    return v;
}

static int write_one(const char *path, const unsigned char *pixels, uint32_t width,
                     uint32_t height, int level)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        perror(path);
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "noise_serial: libpng failed on %s\n", path);
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
        fprintf(stderr, "usage: noise_serial OUTDIR COUNT [width height level [seed]]\n");
        return 2;
    }
    const char *dir = argv[1];
    long count = parse_arg(argv[2], "COUNT", 0, 100000000);
    uint32_t width = argc > 3 ? (uint32_t)parse_arg(argv[3], "width", 1, 16384) : 100;
    uint32_t height = argc > 3 ? (uint32_t)parse_arg(argv[4], "height", 1, 16384) : 100;
    int level = argc > 3 ? (int)parse_arg(argv[5], "level", 0, 9) : 0;
    uint64_t seed = argc > 6 ? strtoull(argv[6], NULL, 10) : 0;

    size_t nbytes = (size_t)width * height;
    unsigned char *pixels = malloc(nbytes);
    if (!pixels) {
        fprintf(stderr, "noise_serial: out of memory\n");
        return 1;
    }
    char path[4096];
    for (long i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/image_%ld.png", dir, i);
        wstask_noise_pixels(seed, (uint64_t)i, pixels, nbytes);
        if (write_one(path, pixels, width, height, level) != 0)
            return 1;
    }
    free(pixels);
    return 0;
}

/*
 * read_serial.c - bench peer for the read plugin: the plain serial C loop
 * a programmer would write first.  For i in 0..COUNT-1 it opens the file
 * PATTERN % i with stdio, decodes it with libpng into one reused buffer and
 * takes XXH64 of the pixels (16-bit samples little-endian, as read does).
 * Prints the file count, the pixel bytes and the XXH64 of the per-file
 * checksums, which equals the total read prints on stderr (and in a JSON
 * manifest).  Never writes a file.
 *
 * usage: read_serial PATTERN COUNT      e.g. read_serial image_%d.png 2000
 * build: gcc -O2 -Itasks bench/peers/read_serial.c -lpng -lz
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xxh64.h"

static unsigned char *pixels;
static size_t pixels_cap;

/* Decode one file; returns the decoded byte count, or 0 on failure. */
static size_t decode(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_bytep *rows = NULL;
    size_t bytes = 0;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        fclose(f);
        return 0;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    if (png_get_bit_depth(png, info) == 16)
        png_set_swap(png);
    png_set_expand(png); /* palette and low-depth gray to 8 bits, as read's keep mode */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    uint32_t height = png_get_image_height(png, info);
    bytes = rowbytes * height;
    if (bytes > pixels_cap) {
        pixels = realloc(pixels, bytes);
        pixels_cap = bytes;
    }
    rows = malloc(height * sizeof *rows);
    for (uint32_t y = 0; y < height; y++)
        rows[y] = pixels + y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    fclose(f);
    return bytes;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: read_serial PATTERN COUNT\n");
        return 2;
    }
    long count = atol(argv[2]);
    unsigned char *sums = malloc((size_t)count * 8 + 1);
    uint64_t total = 0;
    char path[4096];
    for (long i = 0; i < count; i++) {
        snprintf(path, sizeof path, argv[1], (int)i);
        size_t bytes = decode(path);
        if (!bytes) {
            fprintf(stderr, "read_serial: cannot decode %s\n", path);
            return 1;
        }
        uint64_t h = wstask_xxh64(pixels, bytes, 0);
        for (int k = 0; k < 8; k++)
            sums[i * 8 + k] = (unsigned char)(h >> (8 * k));
        total += bytes;
    }
    printf("%ld files, %llu bytes, xxh64 %016llx\n", count, (unsigned long long)total,
           (unsigned long long)wstask_xxh64(sums, (size_t)count * 8, 0));
    free(sums);
    free(pixels);
    return 0;
}

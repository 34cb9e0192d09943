/*
 * fuzz_png.c - libFuzzer target: the PNG decoding path of the read and
 * fill plugins (tasks/common/png_read.c): header precheck, libpng's decoder with
 * each conversion, and decoding into a buffer sized from what the header
 * promised.  The first input byte picks the conversion; the rest is the
 * file.  A crash, a sanitizer report or a decoder writing past the
 * buffer it was given is a bug.  Must never touch the file system.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/png_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that a fuzzed header cannot ask for gigabytes. */
#define FUZZ_MAX_PIXELS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int convert = data[0] % 3;
    wstask_png_reader r;
    memset(&r, 0, sizeof r);
    r.file = malloc(size);
    if (!r.file)
        return 0;
    memcpy(r.file, data + 1, size - 1);
    r.file_len = size - 1;
    r.file_cap = size;
    wstask_image_info info;
    if (wstask_png_open_loaded(&r, convert, FUZZ_MAX_PIXELS, &info) == 0) {
        if (info.width == 0 || info.height == 0 ||
            (uint64_t)info.width * info.height > FUZZ_MAX_PIXELS)
            abort(); /* the limit must hold for whatever was accepted */
        /* Exactly the promised size, so ASan sees any write past it. */
        unsigned char *dest = malloc(info.bytes);
        if (dest) {
            (void)wstask_png_read_pixels(&r, dest, info.row_bytes);
            free(dest);
        }
    }
    wstask_png_reader_fini(&r);
    return 0;
}

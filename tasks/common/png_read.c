/*
 * png_read.c - load a file and decode it as PNG with libpng, for the read
 * and fill plugins (png_read.h says what callers get).  One wstask_png_reader
 * per thread; it must never be shared between threads, never print
 * (libpng's warnings are dropped, its errors become the reader's message),
 * and never touch process-wide state.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "png_read.h"

static const unsigned char wstask_png_signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

void wstask_png_reader_fini(wstask_png_reader *r)
{
    if (r->png)
        png_destroy_read_struct(&r->png, &r->info, NULL);
    free(r->file);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

void wstask_png_reader_close(wstask_png_reader *r)
{
    if (r->png)
        png_destroy_read_struct(&r->png, &r->info, NULL);
    r->png = NULL;
    r->info = NULL;
}

int wstask_input_open(const char *path, uint64_t *size, char *why, size_t why_size)
{
    /* O_NONBLOCK: a FIFO at an image's name must be refused, not waited
     * on for a writer; a regular file reads the same either way. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, why_size, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(why, why_size, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        /* /dev/zero or a pipe would be read for ever. */
        snprintf(why, why_size, "%s, not a regular file: only files are read",
                 S_ISDIR(st.st_mode)    ? "is a folder"
                 : S_ISCHR(st.st_mode)  ? "is a character device"
                 : S_ISBLK(st.st_mode)  ? "is a block device"
                 : S_ISFIFO(st.st_mode) ? "is a FIFO (named pipe)"
                 : S_ISSOCK(st.st_mode) ? "is a socket"
                                        : "is a special file");
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

/* Read bytes [r->file_len, want) of fd into r->file.  0, or -1 with
 * r->why set; a file that shrank ends early (the decoder says so). */
static int wstask_file_read_to(wstask_png_reader *r, int fd, size_t want)
{
    if (want + 1 > r->file_cap) {
        size_t cap = r->file_cap ? r->file_cap : 65536;
        while (cap < want + 1)
            cap *= 2;
        unsigned char *grown = (unsigned char *)realloc(r->file, cap);
        if (!grown) {
            snprintf(r->why, sizeof r->why, "out of memory for a %zu-byte file", want);
            return -1;
        }
        r->file = grown;
        r->file_cap = cap;
    }
    while (r->file_len < want) {
        ssize_t got = read(fd, r->file + r->file_len, want - r->file_len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(r->why, sizeof r->why, "cannot read: %s", strerror(errno));
            return -1;
        }
        if (got == 0)
            break;
        r->file_len += (size_t)got;
    }
    return 0;
}

/* Room for the chunks beside the pixels (ICC profile, EXIF, text) in the
 * bound below: generous for any real image, yet a fixed amount. */
#define WSTASK_PNG_OTHER_CHUNKS ((uint64_t)16 << 20)

/* The most bytes a PNG whose IHDR is at r->file + 8 can need: its
 * filtered rows (with Adam7's extra filter bytes), stored uncompressed,
 * an eighth more for zlib's and the chunks' framing, and the room above
 * for other chunks. */
static uint64_t wstask_png_size_bound(const wstask_png_reader *r)
{
    uint64_t width = wstask_png_be32(r->file + 16), height = wstask_png_be32(r->file + 20);
    unsigned depth = r->file_len > 24 ? r->file[24] : 16;
    unsigned type = r->file_len > 25 ? r->file[25] : 6;
    unsigned channels = type == 0 || type == 3 ? 1 : type == 2 ? 3 : type == 4 ? 2 : 4;
    if (depth < 1 || depth > 16)
        depth = 16;
    uint64_t row = (width * channels * depth + 7) / 8; /* width < 2^32: no overflow */
    uint64_t rows = height * (row + 15);               /* a filter byte per pass and rounding */
    return rows + rows / 8 + WSTASK_PNG_OTHER_CHUNKS;
}

static int wstask_png_precheck(wstask_png_reader *r, uint64_t max_pixels);

int wstask_png_load_fd(wstask_png_reader *r, int fd, uint64_t size, uint64_t max_pixels)
{
    r->file_len = 0;
    /* The signature and the whole IHDR first: nothing more is read from a
     * file that is no PNG or whose image is over max-pixels. */
    if (wstask_file_read_to(r, fd, size < 33 ? (size_t)size : 33) != 0)
        return -1;
    if (wstask_png_precheck(r, max_pixels) != 0)
        return -1;
    uint64_t bound = wstask_png_size_bound(r);
    if (size > bound) {
        snprintf(r->why, sizeof r->why,
                 "file is %" PRIu64 " bytes, more than its %" PRIu32 "x%" PRIu32
                 " image can need (%" PRIu64 " bytes at most); not read",
                 size, wstask_png_be32(r->file + 16), wstask_png_be32(r->file + 20), bound);
        return -1;
    }
    if (size > SIZE_MAX - 1) {
        snprintf(r->why, sizeof r->why, "file of %" PRIu64 " bytes is too large", size);
        return -1;
    }
    return wstask_file_read_to(r, fd, (size_t)size);
}

int wstask_is_png_data(const unsigned char *p, size_t len)
{
    return len >= sizeof wstask_png_signature && memcmp(p, wstask_png_signature, sizeof wstask_png_signature) == 0;
}

uint32_t wstask_png_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void wstask_png_on_read_error(png_structp png, png_const_charp msg)
{
    wstask_png_reader *r = (wstask_png_reader *)png_get_error_ptr(png);
    snprintf(r->why, sizeof r->why, "bad PNG: %s", msg);
    png_longjmp(png, 1);
}

static void wstask_png_on_read_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings (bad ancillary chunks) do not change the pixels */
}

static void wstask_png_read_from_memory(png_structp png, png_bytep out, size_t n)
{
    wstask_png_reader *r = (wstask_png_reader *)png_get_io_ptr(png);
    if (n > r->file_len - r->pos)
        png_error(png, "file ends early (truncated)");
    memcpy(out, r->file + r->pos, n);
    r->pos += n;
}

/* Check the file's signature and IHDR by hand, before libpng allocates
 * anything: not a PNG, empty, or more pixels than max_pixels.  0, or -1
 * with r->why set. */
static int wstask_png_precheck(wstask_png_reader *r, uint64_t max_pixels)
{
    if (r->file_len == 0) {
        snprintf(r->why, sizeof r->why, "empty file (0 bytes), not a PNG");
        return -1;
    }
    if (!wstask_is_png_data(r->file, r->file_len)) {
        snprintf(r->why, sizeof r->why, "not a PNG file (no PNG signature in its first 8 bytes)");
        return -1;
    }
    /* signature (8), IHDR length (4), "IHDR" (4), width (4), height (4) */
    if (r->file_len < 24) {
        snprintf(r->why, sizeof r->why, "file ends early (truncated): %zu bytes, no IHDR",
                 r->file_len);
        return -1;
    }
    if (memcmp(r->file + 12, "IHDR", 4) != 0) {
        snprintf(r->why, sizeof r->why, "bad PNG: the first chunk is not IHDR");
        return -1;
    }
    uint64_t width = wstask_png_be32(r->file + 16), height = wstask_png_be32(r->file + 20);
    if (width * height > max_pixels) {
        snprintf(r->why, sizeof r->why,
                 "header says %" PRIu64 "x%" PRIu64 " = %" PRIu64
                 " pixels, over the limit of %" PRIu64 " (option max-pixels)",
                 width, height, width * height, max_pixels);
        return -1;
    }
    return 0;
}

/* Read the header of the file in r->file; choose the transforms for
 * `convert`.  On success *out describes the pixels wstask_png_read_pixels will
 * produce.  0, or -1 with r->why set (the reader is closed then). */
int wstask_png_open_loaded(wstask_png_reader *r, int convert, uint64_t max_pixels, wstask_image_info *out)
{
    wstask_png_reader_close(r);
    if (wstask_png_precheck(r, max_pixels) != 0)
        return -1;
    r->pos = 0;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, wstask_png_on_read_error,
                                    wstask_png_on_read_warning);
    if (!r->png || !(r->info = png_create_info_struct(r->png))) {
        snprintf(r->why, sizeof r->why, "out of memory starting libpng");
        wstask_png_reader_close(r);
        return -1;
    }
    if (setjmp(png_jmpbuf(r->png))) {
        wstask_png_reader_close(r);
        return -1;
    }
    png_set_read_fn(r->png, r, wstask_png_read_from_memory);
    /* The pixel limit is ours (max-pixels), not libpng's per-side one. */
    png_set_user_limits(r->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(r->png, r->info);

    png_structp png = r->png;
    png_infop info = r->info;
    int color = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    int has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;

    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
        if (has_trns && convert == WSTASK_CONVERT_KEEP)
            png_set_tRNS_to_alpha(png);
    }
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) {
        if (convert != WSTASK_CONVERT_KEEP) {
            png_set_scale_16(png);
        } else {
            png_set_swap(png); /* PNG stores big-endian; callers get little-endian */
        }
    }
    if (convert == WSTASK_CONVERT_GRAY) {
        if (color & PNG_COLOR_MASK_COLOR)
            png_set_rgb_to_gray_fixed(png, 1, -1, -1);
        if (color & PNG_COLOR_MASK_ALPHA)
            png_set_strip_alpha(png);
    } else if (convert == WSTASK_CONVERT_RGB) {
        if (!(color & PNG_COLOR_MASK_COLOR))
            png_set_gray_to_rgb(png);
        if (color & PNG_COLOR_MASK_ALPHA)
            png_set_strip_alpha(png);
    }
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);

    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
    out->channels = png_get_channels(png, info);
    out->bit_depth = png_get_bit_depth(png, info);
    out->row_bytes = png_get_rowbytes(png, info);
    out->bytes = out->row_bytes * out->height;
    if ((out->bit_depth != 8 && out->bit_depth != 16) || out->channels < 1 || out->channels > 4 ||
        out->row_bytes != (uint64_t)out->width * out->channels * (out->bit_depth / 8)) {
        snprintf(r->why, sizeof r->why,
                 "unexpected layout after decoding: %u channel(s) of %u bits, %" PRIu64
                 " bytes per row",
                 out->channels, out->bit_depth, out->row_bytes);
        wstask_png_reader_close(r);
        return -1;
    }
    if ((uint64_t)out->width * out->height > max_pixels) { /* never: precheck saw the IHDR */
        snprintf(r->why, sizeof r->why, "%ux%u is over the max-pixels limit", out->width,
                 out->height);
        wstask_png_reader_close(r);
        return -1;
    }
    return 0;
}

/* As wstask_png_open_loaded, for the file at `path`. */
int wstask_png_open(wstask_png_reader *r, const char *path, int convert, uint64_t max_pixels,
                wstask_image_info *out)
{
    wstask_png_reader_close(r);
    uint64_t size;
    int fd = wstask_input_open(path, &size, r->why, sizeof r->why);
    if (fd < 0)
        return -1;
    int rc = wstask_png_load_fd(r, fd, size, max_pixels);
    close(fd);
    if (rc != 0)
        return -1;
    return wstask_png_open_loaded(r, convert, max_pixels, out);
}

/* Decode the pixels of the image wstask_png_open described into `dest`, row y
 * at dest + y * stride, then read to the end of the file so damage after
 * the pixels is noticed too.  Closes the reader.  0, or -1 with r->why. */
int wstask_png_read_pixels(wstask_png_reader *r, unsigned char *dest, size_t stride)
{
    png_structp png = r->png;
    uint32_t height = png_get_image_height(png, r->info);
    if (r->rows_cap < height) {
        png_bytep *rows = (png_bytep *)realloc(r->rows, (size_t)height * sizeof *rows);
        if (!rows) {
            snprintf(r->why, sizeof r->why, "out of memory for %u row pointers", height);
            wstask_png_reader_close(r);
            return -1;
        }
        r->rows = rows;
        r->rows_cap = height;
    }
    for (uint32_t y = 0; y < height; y++)
        r->rows[y] = dest + (size_t)y * stride;
    if (setjmp(png_jmpbuf(png))) {
        wstask_png_reader_close(r);
        return -1;
    }
    png_read_image(png, r->rows);
    png_read_end(png, NULL);
    wstask_png_reader_close(r);
    return 0;
}

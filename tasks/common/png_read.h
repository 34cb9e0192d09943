/*
 * png_read.h - load a file and decode it as PNG with libpng, for the read
 * and fill plugins: every colour type and bit depth libpng accepts, kept as
 * stored (samples of 8 or 16 bits, 16-bit ones little-endian on every
 * host) or converted to 8-bit gray or RGB.  An image larger than the
 * caller's pixel limit is refused from its IHDR, before any buffer for it
 * is allocated, and a file larger than its IHDR's image can need is refused
 * from its size, before it is read.  Part of build/libwstasks.a (png_read.c); also compiled
 * into the PNG fuzz target.  One wstask_png_reader per thread, never shared.
 */
#ifndef WSTASK_PNG_READ_H
#define WSTASK_PNG_READ_H

#include <png.h>
#include <stddef.h>
#include <stdint.h>

enum { WSTASK_CONVERT_KEEP = 0, WSTASK_CONVERT_GRAY = 1, WSTASK_CONVERT_RGB = 2 };
#define WSTASK_CONVERT_CHOICES "keep|gray|rgb"

/* 100 megapixels: any photo; a 1,000,000 x 1,000,000 header is refused. */
#define WSTASK_DEFAULT_MAX_PIXELS "100000000"

/* The decoded image as the caller receives it (after any conversion). */
typedef struct wstask_image_info {
    uint32_t width, height;
    uint32_t channels;  /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    uint32_t bit_depth; /* 8 or 16 */
    uint64_t row_bytes;
    uint64_t bytes; /* height * row_bytes */
} wstask_image_info;

typedef struct wstask_png_reader {
    unsigned char *file; /* the whole file (a PNG within its bound) */
    size_t file_len, file_cap;
    size_t pos; /* libpng's read position in file */
    png_structp png;
    png_infop info;
    png_bytep *rows;
    size_t rows_cap;
    char why[256]; /* the reason of the last failure */
} wstask_png_reader;

/* Close any open image and free the reader's buffers; it is all zero then. */
void wstask_png_reader_fini(wstask_png_reader *r);
/* End libpng's work on the current image; the buffers stay for the next. */
void wstask_png_reader_close(wstask_png_reader *r);

/* Open `path` as one input file: a regular file only (a folder, FIFO or
 * device such as /dev/zero is refused, saying which).  The descriptor and
 * *size, or -1 with the reason in why. */
int wstask_input_open(const char *path, uint64_t *size, char *why, size_t why_size);
/* Load the PNG file open on fd (`size` bytes by fstat) into r->file,
 * holding no more than its image can need: the signature and IHDR are
 * read and checked first (max_pixels), then the size against a bound
 * derived from the IHDR, and only then the rest.  0, or -1 with r->why. */
int wstask_png_load_fd(wstask_png_reader *r, int fd, uint64_t size, uint64_t max_pixels);
/* The big-endian 32-bit number at p (PNG's byte order). */
uint32_t wstask_png_be32(const unsigned char *p);
/* 1 when the bytes start with the PNG signature. */
int wstask_is_png_data(const unsigned char *p, size_t len);

/* Read the header of the file in r->file; choose the transforms for
 * `convert` (WSTASK_CONVERT_*).  On success *out describes the pixels
 * wstask_png_read_pixels will produce.  0, or -1 with r->why set (the reader is
 * closed then). */
int wstask_png_open_loaded(wstask_png_reader *r, int convert, uint64_t max_pixels, wstask_image_info *out);
/* As wstask_png_open_loaded, for the file at `path`. */
int wstask_png_open(wstask_png_reader *r, const char *path, int convert, uint64_t max_pixels,
                wstask_image_info *out);
/* Decode the pixels of the image just opened into `dest`, row y at
 * dest + y * stride, then read to the end of the file so damage after the
 * pixels is noticed too.  Closes the reader.  0, or -1 with r->why. */
int wstask_png_read_pixels(wstask_png_reader *r, unsigned char *dest, size_t stride);

#endif

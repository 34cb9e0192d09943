/*
 * noise_pixels.h - the one definition of the noise plugin's pixels, shared
 * by the noise writer, the read plugin's --verify and the fill plugin's
 * noise source (and the bench peer), so all of them agree byte for byte.
 * Header-only; must never depend on the worker, the thread or -j, and must
 * never change what it produces: files written earlier are verified with it.
 *
 * The pixel definition.  Image `index` of a run seeded with `seed` holds
 * the bytes
 *
 *     ws_rng r = ws_rng_make(seed, index);      (== ws_rng_for(ctx, index))
 *     ws_rng_fill(&r, samples, nbytes);
 *
 * laid out as PNG stores the unfiltered image: rows top to bottom, pixels
 * left to right, channels in order (gray, or R G B), each sample 1 byte for
 * depth 8 or 2 bytes big-endian (most significant first) for depth 16, no
 * padding between rows.  So nbytes = width * height * channels * (depth/8),
 * and byte k is byte (k % 8) (little-endian) of the stream's output k / 8.
 * Every sample value is uniform over its full range.
 */
#ifndef WSTASK_NOISE_PIXELS_H
#define WSTASK_NOISE_PIXELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wsrun.h"

/* Largest raw image (all samples) the noise plugin writes: big enough for
 * any real use, small enough that a typo in width/height fails at once
 * instead of filling the disk. */
#define WSTASK_NOISE_MAX_IMAGE_BYTES (UINT64_C(1) << 30)

/* ws_rng_fill, byte for byte.  On a little-endian machine each output's
 * bytes are already in ws_rng_fill's order, so one 8-byte copy replaces
 * gcc's byte-at-a-time loop (a third of the noise plugin's user time). */
static inline void wstask_noise_fill(ws_rng *r, unsigned char *p, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v = ws_rng_next(r);
        memcpy(p, &v, 8);
    }
#endif
    ws_rng_fill(r, p, n);
}

/* Bytes [offset, offset + n) of a stream's byte sequence as ws_rng_fill
 * from a fresh `stream` would produce them.  Each 64-bit output is a pure
 * function of its position, so a row can be made without the rows before. */
static inline void wstask_noise_bytes_at(ws_rng stream, uint64_t offset,
                                     unsigned char *buf, size_t n)
{
    stream.counter = offset / 8;
    unsigned skip = (unsigned)(offset % 8);
    if (skip && n) {
        uint64_t v = ws_rng_next(&stream);
        while (skip < 8 && n) {
            *buf++ = (unsigned char)(v >> (8 * skip));
            skip++;
            n--;
        }
    }
    wstask_noise_fill(&stream, buf, n);
}

/* The same byte sequence read front to back in pieces of any size (the
 * writer's rows): consecutive reads give the bytes wstask_noise_bytes_at
 * gives for consecutive ranges, but an output that a piece boundary splits
 * is drawn once and its unused bytes kept for the next piece, instead of
 * drawn again for each piece (with 100-byte rows that redrawing, and the
 * byte loops at both ends of every row, made the pixels cost half again
 * as much as filling the whole image at once). */
typedef struct wstask_noise_reader {
    ws_rng stream;   /* positioned after the last output drawn */
    uint64_t spare;  /* that output, when some of its bytes are unused */
    unsigned nspare; /* how many of its bytes (the last ones) are unused, 0..7 */
} wstask_noise_reader;

/* A reader at byte `offset` of a stream's byte sequence. */
static inline wstask_noise_reader wstask_noise_reader_at(ws_rng stream, uint64_t offset)
{
    wstask_noise_reader rd;
    rd.stream = stream;
    rd.stream.counter = offset / 8;
    rd.spare = 0;
    rd.nspare = 0;
    if (offset % 8) {
        rd.spare = ws_rng_next(&rd.stream);
        rd.nspare = 8 - (unsigned)(offset % 8);
    }
    return rd;
}

/* The next n bytes of the sequence.  Works on a local copy of the reader:
 * stores through `buf` (unsigned char) may alias *rd as far as the compiler
 * knows, which would keep the counter in memory, loaded and stored for
 * every 8 bytes (twice the time of the whole fill). */
static inline void wstask_noise_read(wstask_noise_reader *rd, unsigned char *buf, size_t n)
{
    wstask_noise_reader r = *rd;
    for (; r.nspare && n; r.nspare--, n--)
        *buf++ = (unsigned char)(r.spare >> (8 * (8 - r.nspare)));
    size_t whole = n & ~(size_t)7;
    wstask_noise_fill(&r.stream, buf, whole);
    buf += whole;
    n -= whole;
    if (n) {
        r.spare = ws_rng_next(&r.stream);
        for (size_t k = 0; k < n; k++)
            buf[k] = (unsigned char)(r.spare >> (8 * k));
        r.nspare = 8 - (unsigned)n;
    }
    *rd = r;
}

/* All nbytes sample bytes of image `index` (the definition above). */
static inline void wstask_noise_pixels(uint64_t seed, uint64_t index,
                                   unsigned char *buf, size_t nbytes)
{
    ws_rng r = ws_rng_make(seed, index);
    wstask_noise_fill(&r, buf, nbytes);
}

/* Raw sample bytes of one image, or 0 when the product overflows 64 bits. */
static inline uint64_t wstask_noise_image_bytes(uint64_t width, uint64_t height,
                                            uint64_t channels, uint64_t bytes_per_sample)
{
    uint64_t total;
    if (__builtin_mul_overflow(width, height, &total) ||
        __builtin_mul_overflow(total, channels, &total) ||
        __builtin_mul_overflow(total, bytes_per_sample, &total))
        return 0;
    return total;
}

#endif

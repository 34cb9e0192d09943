/*
 * png_write.h - write one PNG to a file descriptor with libpng, reusing a
 * per-worker memory arena and output buffer so a stream of small images
 * costs no malloc/free (and no heap trim and page faults) per image.
 * Header-only static functions for one plugin source; must never touch
 * process-wide state (no mallopt, no signal handlers, no stdio), never
 * print, and never be shared between threads: one wstask_png_writer per worker.
 */
#ifndef WSTASK_PNG_WRITE_H
#define WSTASK_PNG_WRITE_H

#include <errno.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libpng and zlib allocate about 200-270 KB per image and free it all when
 * the write struct is destroyed.  Through glibc's malloc that memory goes
 * back to the kernel after each image (trim) and is faulted in again on
 * the next.  Instead every allocation is carved from one block that lives
 * as long as the worker; destroying the write struct frees nothing, and
 * the block is simply reused for the next image.  A request that does not
 * fit goes to malloc, and the block grows once to the peak seen. */
typedef struct wstask_png_arena {
    unsigned char *base;
    size_t size;
    size_t used;
    size_t spilled;  /* bytes handed out by malloc since the last reset */
    unsigned colour; /* page blocks handed out since the last reset */
} wstask_png_arena;

#define WSTASK_PNG_ARENA_ALIGN 16
#define WSTASK_PNG_ARENA_START (256u * 1024u)

/* Page colouring: where in its 4 KiB page each big block starts.
 *
 * zlib's big buffers are whole pages (a 100x100 image: window 32 KiB,
 * prev 32 KiB, head 64 KiB, pending_buf 64 KiB, allocated in that order).
 * Packed back to back they would all start at the same offset in their
 * pages, and at level 0 zlib copies each stored block from the window into
 * pending_buf just behind the block's 5-byte header (_tr_stored_block,
 * from deflate_stored): the copy's destination is then 5 bytes past its
 * source modulo 4 KiB.  glibc's memcpy moves that many bytes with `rep
 * movsb` (FSRM CPUs, above 2112 bytes), and on AMD Zen 3 `rep movsb` with
 * (dst - src) mod 4096 in 1..31 runs about 30 times slower (its loads
 * appear to depend on the stores just made: the CPU compares only the low
 * 12 address bits; glibc bug 30994): 28000 cycles instead of 700 per
 * image, 11 % of a whole noise run.  glibc's malloc misses this only by
 * luck (its 16-byte chunk headers put the copy 53 bytes apart).
 *
 * So the k-th block of a page or more since the reset starts at page
 * offset k * WSTASK_PNG_COLOUR_STEP (mod 4 KiB), cache-line aligned: any two
 * such blocks are at least a cache line apart within the page, and a copy
 * between them near their starts is never a few bytes "ahead" of its
 * source.  41 lines of 64 is about 0.64 of a page (near the golden ratio,
 * which spreads the first colours evenly over the page) and odd, so 64
 * blocks pass before an offset repeats.  The bytes written do not depend
 * on where the buffers lie; this costs under 4 KiB of arena per block. */
#define WSTASK_PNG_PAGE 4096u
#define WSTASK_PNG_LINE 64u
#define WSTASK_PNG_COLOUR_STEP (41u * WSTASK_PNG_LINE)

/* Bytes to skip at the arena's free end so that a block of n bytes starts
 * at its colour; 0 for small blocks, which stay packed. */
static size_t wstask_png_arena_pad(const wstask_png_arena *a, size_t n)
{
    if (n < WSTASK_PNG_PAGE)
        return 0;
    uintptr_t at = (uintptr_t)(a->base + a->used);
    uintptr_t want = (uintptr_t)a->colour * WSTASK_PNG_COLOUR_STEP;
    return (size_t)((want - at) & (WSTASK_PNG_PAGE - 1));
}

static png_voidp wstask_png_arena_malloc(png_structp png, png_alloc_size_t n)
{
    wstask_png_arena *a = (wstask_png_arena *)png_get_mem_ptr(png);
    size_t rounded = ((size_t)n + WSTASK_PNG_ARENA_ALIGN - 1) & ~(size_t)(WSTASK_PNG_ARENA_ALIGN - 1);
    size_t pad = wstask_png_arena_pad(a, rounded);
    if (rounded >= WSTASK_PNG_PAGE)
        a->colour++;
    if (rounded >= n && pad <= a->size - a->used && rounded <= a->size - a->used - pad) {
        void *p = a->base + a->used + pad;
        a->used += pad + rounded;
        return p;
    }
    a->spilled += rounded + (rounded >= WSTASK_PNG_PAGE ? WSTASK_PNG_PAGE : 0); /* room for a pad */
    return malloc(n); /* NULL makes libpng raise "out of memory" */
}

static void wstask_png_arena_free(png_structp png, png_voidp p)
{
    wstask_png_arena *a = (wstask_png_arena *)png_get_mem_ptr(png);
    unsigned char *c = (unsigned char *)p;
    if (c >= a->base && c < a->base + a->size)
        return; /* reclaimed all at once by wstask_png_arena_reset */
    free(p);
}

/* Forget every allocation; if some spilled to malloc, grow to the peak so
 * the next image of the same shape fits. */
static void wstask_png_arena_reset(wstask_png_arena *a)
{
    if (a->spilled) {
        size_t want = a->used + a->spilled;
        want = (want + 65535) & ~(size_t)65535;
        unsigned char *bigger = (unsigned char *)malloc(want);
        if (bigger) {
            free(a->base);
            a->base = bigger;
            a->size = want;
        }
    }
    a->used = 0;
    a->spilled = 0;
    a->colour = 0; /* every image gets the same layout */
}

/* Buffered writes to a descriptor; the first failure's errno is kept. */
typedef struct wstask_png_sink {
    int fd;
    int err;
    size_t len;
    size_t cap;
    unsigned char *buf;
} wstask_png_sink;

#define WSTASK_PNG_SINK_CAP (64u * 1024u)

static int wstask_png_write_all(wstask_png_sink *s, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->err = w < 0 ? errno : EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int wstask_png_sink_flush(wstask_png_sink *s)
{
    if (s->err)
        return -1;
    int rc = wstask_png_write_all(s, s->buf, s->len);
    s->len = 0;
    return rc;
}

static void wstask_png_sink_write(png_structp png, png_bytep data, size_t n)
{
    wstask_png_sink *s = (wstask_png_sink *)png_get_io_ptr(png);
    if (s->len + n > s->cap) {
        if (wstask_png_sink_flush(s) != 0 ||
            (n >= s->cap && wstask_png_write_all(s, data, n) != 0))
            png_error(png, "write failed");
        if (n >= s->cap)
            return;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
}

static void wstask_png_sink_noflush(png_structp png)
{
    (void)png; /* the whole file goes out in wstask_png_write_fd's last flush */
}

/* What to write: IHDR fields and the compression settings. */
typedef struct wstask_png_format {
    uint32_t width, height;
    int bit_depth;  /* 8 or 16 */
    int color_type; /* PNG_COLOR_TYPE_GRAY or PNG_COLOR_TYPE_RGB */
    int filters;    /* PNG_FILTER_* mask for png_set_filter */
    int level;      /* zlib level 0..9 */
    int strategy;   /* Z_DEFAULT_STRATEGY, Z_RLE, ... */
} wstask_png_format;

/* Row y (rowbytes bytes, PNG's sample layout), valid until the next call.
 * Rows are asked for in order, each once, so a producer may make several
 * at a time and hand out pointers into its own buffer. */
typedef const unsigned char *(*wstask_png_row_fn)(void *arg, uint32_t y);

typedef struct wstask_png_writer {
    wstask_png_arena arena;
    wstask_png_sink sink;
    char reason[200]; /* why the last wstask_png_write_fd failed */
} wstask_png_writer;

static int wstask_png_writer_init(wstask_png_writer *w)
{
    memset(w, 0, sizeof *w);
    w->arena.base = (unsigned char *)malloc(WSTASK_PNG_ARENA_START);
    w->sink.buf = (unsigned char *)malloc(WSTASK_PNG_SINK_CAP);
    if (!w->arena.base || !w->sink.buf) {
        free(w->arena.base);
        free(w->sink.buf);
        return -1;
    }
    w->arena.size = WSTASK_PNG_ARENA_START;
    w->sink.cap = WSTASK_PNG_SINK_CAP;
    return 0;
}

static void wstask_png_writer_fini(wstask_png_writer *w)
{
    free(w->arena.base);
    free(w->sink.buf);
    memset(w, 0, sizeof *w);
}

static void wstask_png_on_error(png_structp png, png_const_charp msg)
{
    wstask_png_writer *w = (wstask_png_writer *)png_get_error_ptr(png);
    snprintf(w->reason, sizeof w->reason, "%s", msg);
    png_longjmp(png, 1);
}

static void wstask_png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png; /* a warning does not make the file wrong; stay quiet */
    (void)msg;
}

/* zlib's memLevel for a stored (level 0) image: the smallest whose
 * pending buffer still holds a whole window, so the bytes are those of
 * zlib's default memLevel 8.
 *
 * Why: deflateInit clears the string-match hash table for every image,
 * 2^(memLevel+8) bytes (64 KiB at 8, over 6 times a 100x100 image's 10 KiB
 * of pixels), and at level 0 nothing ever reads it.  At level 0 memLevel
 * changes nothing else but the pending buffer, 2^(memLevel+8) bytes, and
 * deflate_stored cuts its blocks at min(pending size - 5, window size).
 * So any memLevel whose pending buffer is at least window + 5 bytes gives
 * the same blocks.  libpng shrinks the window of a small image (at most
 * 16 KiB of filtered data) while the data + 262 fit in half of it, so the
 * window it picks is below 2 * (data + 262), and never above 32 KiB.  For
 * 100x100 gray: 10100 bytes, memLevel 7, a 32 KiB clear instead of 64. */
static int wstask_png_stored_mem_level(const wstask_png_format *f)
{
    uint64_t channels = f->color_type == PNG_COLOR_TYPE_RGB ? 3 : 1;
    uint64_t rowbytes = ((uint64_t)f->width * channels * (uint64_t)f->bit_depth + 7) / 8;
    uint64_t data = (uint64_t)f->height * (rowbytes + 1); /* + each row's filter byte */
    uint64_t window_bound = 2 * (data + 262);
    if (window_bound > 32768)
        window_bound = 32768;
    int mem_level = 1;
    while (mem_level < 8 && ((uint64_t)1 << (mem_level + 8)) < window_bound + 5)
        mem_level++;
    return mem_level;
}

/* Runs between setjmp and the end of the image; kept apart so nothing the
 * caller holds in registers can be clobbered by libpng's longjmp. */
static void wstask_png_emit(png_structp png, png_infop info, const wstask_png_format *f,
                        wstask_png_row_fn row_fn, void *row_arg)
{
    png_set_IHDR(png, info, f->width, f->height, f->bit_depth, f->color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, f->filters);
    png_set_compression_level(png, f->level);
    png_set_compression_strategy(png, f->strategy);
    if (f->level == 0)
        png_set_compression_mem_level(png, wstask_png_stored_mem_level(f));
    png_write_info(png, info);
    for (uint32_t y = 0; y < f->height; y++)
        png_write_row(png, row_fn(row_arg, y));
    png_write_end(png, info);
}

/* Write one whole PNG to fd.  0 on success; -1 with w->reason set on a
 * libpng error or a failed write (then w->sink.err holds the errno and the
 * reason is its strerror text).  The descriptor is left open either way. */
static int wstask_png_write_fd(wstask_png_writer *w, int fd, const wstask_png_format *f,
                           wstask_png_row_fn row_fn, void *row_arg)
{
    w->reason[0] = '\0';
    w->sink.fd = fd;
    w->sink.err = 0;
    w->sink.len = 0;
    wstask_png_arena_reset(&w->arena);

    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, w, wstask_png_on_error,
                                                wstask_png_on_warning, &w->arena,
                                                wstask_png_arena_malloc, wstask_png_arena_free);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(w->reason, sizeof w->reason, "libpng could not start: out of memory");
        return -1;
    }
    int failed = 0;
    if (setjmp(png_jmpbuf(png))) {
        failed = 1;
    } else {
        png_set_write_fn(png, &w->sink, wstask_png_sink_write, wstask_png_sink_noflush);
        wstask_png_emit(png, info, f, row_fn, row_arg);
    }
    png_destroy_write_struct(&png, &info);
    if (!failed && wstask_png_sink_flush(&w->sink) != 0)
        failed = 1;
    if (failed && w->sink.err) {
        char why[160];
        snprintf(w->reason, sizeof w->reason, "%s", strerror_r(w->sink.err, why, sizeof why));
    }
    return failed ? -1 : 0;
}

#endif

/*
 * test_png_write.c - the noise writer's libpng layer (tasks/png_write.h):
 * where its arena puts libpng's and zlib's buffers, and that the files it
 * writes are byte for byte what a plain libpng writer (default allocator,
 * stdio) writes with the same settings.  Also the noise reader of
 * tasks/noise_pixels.h against the pixel definition.
 *
 * In memory and in tmpfile()s only; never depends on timing.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "wsrun.h"
#include "../tasks/noise_pixels.h"
#include "../tasks/png_write.h"

/* ------------------------------------------------ where the arena puts blocks */

#define MAX_BLOCKS 64

typedef struct recorder {
    wstask_png_arena *arena;
    int n;
    uintptr_t at[MAX_BLOCKS];
    size_t size[MAX_BLOCKS];
} recorder;

static recorder rec;

/* The arena's allocator, noting what libpng and zlib asked for and got. */
static png_voidp recording_malloc(png_structp png, png_alloc_size_t n)
{
    png_voidp p = wstask_png_arena_malloc(png, n);
    if (p && rec.n < MAX_BLOCKS) {
        rec.at[rec.n] = (uintptr_t)p;
        rec.size[rec.n] = n;
        rec.n++;
    }
    return p;
}

typedef struct rows {
    ws_rng stream;
    size_t rowbytes;
    unsigned char *row;
} rows;

/* Row y made on its own, the simplest way (noise.c draws blocks of rows). */
static const unsigned char *fill_row(void *arg, uint32_t y)
{
    const rows *r = (const rows *)arg;
    wstask_noise_bytes_at(r->stream, (uint64_t)y * r->rowbytes, r->row, r->rowbytes);
    return r->row;
}

static const wstask_png_format gray100 = {100, 100, 8, PNG_COLOR_TYPE_GRAY, PNG_FILTER_NONE,
                                          0, Z_DEFAULT_STRATEGY};

/* One image through the writer's own steps, with the recording allocator. */
static int record_one_image(wstask_png_writer *w, const wstask_png_format *f, FILE *out)
{
    rec.n = 0;
    rec.arena = &w->arena;
    wstask_png_arena_reset(&w->arena);
    w->sink.fd = fileno(out);
    w->sink.err = 0;
    w->sink.len = 0;
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, w, wstask_png_on_error,
                                                wstask_png_on_warning, &w->arena,
                                                recording_malloc, wstask_png_arena_free);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    cr_assert_not_null(info);
    size_t rowbytes = (size_t)f->width * (f->color_type == PNG_COLOR_TYPE_RGB ? 3 : 1) *
                      (size_t)(f->bit_depth / 8);
    unsigned char *row = malloc(rowbytes);
    rows r = {ws_rng_make(0, 0), rowbytes, row};
    int failed = 0;
    if (setjmp(png_jmpbuf(png))) {
        failed = 1;
    } else {
        png_set_write_fn(png, &w->sink, wstask_png_sink_write, wstask_png_sink_noflush);
        wstask_png_emit(png, info, f, fill_row, &r);
    }
    png_destroy_write_struct(&png, &info);
    free(row);
    return failed || wstask_png_sink_flush(&w->sink) != 0 ? -1 : 0;
}

/* zlib copies between its page-sized buffers (window to pending_buf, at
 * level 0 one whole stored block per image, 5 bytes behind the block's
 * header); when both start at the same offset in their pages, the copy's
 * destination is a few bytes past its source modulo 4 KiB, which makes
 * `rep movsb` crawl on AMD Zen 3.  Every two blocks of a page or more must
 * start at least a cache line apart within the page, either way round. */
static void check_page_offsets(const char *what)
{
    int big = 0;
    for (int i = 0; i < rec.n; i++) {
        if (rec.size[i] < 4096)
            continue;
        big++;
        for (int j = 0; j < i; j++) {
            if (rec.size[j] < 4096)
                continue;
            unsigned d = (unsigned)((rec.at[i] - rec.at[j]) & 4095);
            cr_assert(d >= 64 && d <= 4096 - 64,
                      "%s: blocks %d (%zu bytes) and %d (%zu bytes) start %u bytes apart "
                      "modulo 4096",
                      what, j, rec.size[j], i, rec.size[i], d);
        }
    }
    /* zlib's window, prev, head and pending_buf, and libpng's buffer */
    cr_assert_geq(big, 5, "%s: only %d blocks of a page or more", what, big);
}

Test(png_arena, big_blocks_start_apart_within_their_pages)
{
    wstask_png_writer w;
    cr_assert_eq(wstask_png_writer_init(&w), 0);
    FILE *out = tmpfile();
    cr_assert_not_null(out);
    for (int image = 0; image < 2; image++) {
        cr_assert_eq(record_one_image(&w, &gray100, out), 0, "%s", w.reason);
        check_page_offsets(image ? "second 100x100 image" : "first 100x100 image");
        cr_assert_eq(w.arena.spilled, 0, "a 100x100 image fits the first arena block");
    }
    /* A bigger image outgrows the block; once grown, the same holds. */
    wstask_png_format big = {400, 300, 16, PNG_COLOR_TYPE_RGB, PNG_FILTER_NONE, 0,
                             Z_DEFAULT_STRATEGY};
    cr_assert_eq(record_one_image(&w, &big, out), 0, "%s", w.reason);
    cr_assert_eq(record_one_image(&w, &big, out), 0, "%s", w.reason);
    cr_assert_eq(w.arena.spilled, 0, "the grown arena holds the image");
    check_page_offsets("400x300 rgb16 image after growth");
    fclose(out);
    wstask_png_writer_fini(&w);
}

/* Blocks keep their order, do not overlap, stay inside the arena and are
 * aligned; small ones stay packed. */
Test(png_arena, blocks_are_disjoint_and_aligned)
{
    wstask_png_writer w;
    cr_assert_eq(wstask_png_writer_init(&w), 0);
    FILE *out = tmpfile();
    cr_assert_not_null(out);
    cr_assert_eq(record_one_image(&w, &gray100, out), 0, "%s", w.reason);
    uintptr_t lo = (uintptr_t)w.arena.base, hi = lo + w.arena.size;
    for (int i = 0; i < rec.n; i++) {
        cr_assert(rec.at[i] >= lo && rec.at[i] + rec.size[i] <= hi, "block %d outside", i);
        cr_assert_eq(rec.at[i] % WSTASK_PNG_ARENA_ALIGN, 0, "block %d misaligned", i);
        if (i)
            cr_assert_geq(rec.at[i], rec.at[i - 1] + rec.size[i - 1], "block %d overlaps", i);
        if (i && rec.size[i] < 4096)
            cr_assert_lt(rec.at[i] - (rec.at[i - 1] + rec.size[i - 1]), WSTASK_PNG_ARENA_ALIGN,
                         "small block %d not packed", i);
    }
    fclose(out);
    wstask_png_writer_fini(&w);
}

/* --------------------------------------- the bytes: as a plain libpng writer */

static unsigned char *read_all(FILE *f, size_t *n)
{
    cr_assert_eq(fflush(f), 0);
    long size = ftell(f);
    cr_assert_geq(size, 0);
    unsigned char *buf = malloc((size_t)size + 1);
    rewind(f);
    cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    *n = (size_t)size;
    return buf;
}

/* What a C programmer writes: libpng's own allocator, stdio, the settings. */
static void plain_libpng(FILE *out, const wstask_png_format *f, const rows *src)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert_not_null(info);
    rows r = *src;
    cr_assert_eq(setjmp(png_jmpbuf(png)), 0, "libpng failed in the reference writer");
    png_init_io(png, out);
    png_set_IHDR(png, info, f->width, f->height, f->bit_depth, f->color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, f->filters);
    png_set_compression_level(png, f->level);
    png_set_compression_strategy(png, f->strategy);
    png_write_info(png, info);
    for (uint32_t y = 0; y < f->height; y++)
        png_write_row(png, fill_row(&r, y));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
}

static void same_bytes_as_plain_libpng(const wstask_png_format *f, int images)
{
    wstask_png_writer w;
    cr_assert_eq(wstask_png_writer_init(&w), 0);
    size_t rowbytes = (size_t)f->width * (f->color_type == PNG_COLOR_TYPE_RGB ? 3 : 1) *
                      (size_t)(f->bit_depth / 8);
    unsigned char *row = malloc(rowbytes);
    for (int i = 0; i < images; i++) {
        rows r = {ws_rng_make(5, (uint64_t)i), rowbytes, row};
        FILE *mine = tmpfile(), *theirs = tmpfile();
        cr_assert(mine && theirs);
        cr_assert_eq(wstask_png_write_fd(&w, fileno(mine), f, fill_row, &r), 0, "%s", w.reason);
        cr_assert_eq(fseek(mine, 0, SEEK_END), 0);
        plain_libpng(theirs, f, &r);
        size_t na, nb;
        unsigned char *a = read_all(mine, &na), *b = read_all(theirs, &nb);
        cr_assert(na == nb && memcmp(a, b, na) == 0,
                  "%ux%u depth %d type %d level %d, image %d: %zu bytes, plain libpng %zu",
                  f->width, f->height, f->bit_depth, f->color_type, f->level, i, na, nb);
        free(a);
        free(b);
        fclose(mine);
        fclose(theirs);
    }
    free(row);
    wstask_png_writer_fini(&w);
}

Test(png_write, default_image_is_plain_libpng_bytes)
{
    same_bytes_as_plain_libpng(&gray100, 3);
}

Test(png_write, other_formats_are_plain_libpng_bytes)
{
    const wstask_png_format formats[] = {
        {1, 1, 8, PNG_COLOR_TYPE_GRAY, PNG_FILTER_NONE, 0, Z_DEFAULT_STRATEGY},
        {640, 480, 16, PNG_COLOR_TYPE_RGB, PNG_FILTER_NONE, 0, Z_DEFAULT_STRATEGY},
        {3000, 7, 8, PNG_COLOR_TYPE_GRAY, PNG_FILTER_NONE, 1, Z_DEFAULT_STRATEGY},
        {100, 100, 8, PNG_COLOR_TYPE_GRAY, PNG_ALL_FILTERS, 6, Z_DEFAULT_STRATEGY},
        {33, 9, 8, PNG_COLOR_TYPE_RGB, PNG_FILTER_SUB, 1, Z_RLE},
    };
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++)
        same_bytes_as_plain_libpng(&formats[k], 2);
}

/* A stored image's memLevel (wstask_png_stored_mem_level) may only shrink
 * zlib's unused hash table: the bytes must stay those of libpng's default.
 * The sizes straddle each window libpng can pick for a small image (the
 * data + 262 just at and just past each power of two it halves through),
 * and larger images where it keeps the 32 KiB window. */
Test(png_write, stored_images_of_every_window_are_plain_libpng_bytes)
{
    cr_assert_eq(wstask_png_stored_mem_level(&gray100), 7, "a 100x100 image clears 32 KiB, not 64");
    for (uint32_t half = 512; half <= 32768; half *= 2) {
        for (uint32_t edge = 0; edge < 2; edge++) {
            uint32_t data = half - 262 + edge; /* one row: width + 1 filter byte */
            wstask_png_format gray = {data - 1, 1, 8, PNG_COLOR_TYPE_GRAY, PNG_FILTER_NONE, 0,
                                      Z_DEFAULT_STRATEGY};
            same_bytes_as_plain_libpng(&gray, 1);
            /* the same data in rows of rgb16 (6 bytes a pixel) where it divides */
            if ((data - 1) % 6 == 0) {
                wstask_png_format rgb = {(data - 1) / 6, 1, 16, PNG_COLOR_TYPE_RGB,
                                         PNG_FILTER_NONE, 0, Z_DEFAULT_STRATEGY};
                same_bytes_as_plain_libpng(&rgb, 1);
            }
        }
    }
    const wstask_png_format more[] = {
        {64, 64, 8, PNG_COLOR_TYPE_GRAY, PNG_ALL_FILTERS, 0, Z_DEFAULT_STRATEGY},
        {90, 180, 8, PNG_COLOR_TYPE_GRAY, PNG_FILTER_NONE, 0, Z_DEFAULT_STRATEGY},
        {181, 90, 8, PNG_COLOR_TYPE_RGB, PNG_FILTER_NONE, 0, Z_RLE},
        {300, 300, 16, PNG_COLOR_TYPE_RGB, PNG_FILTER_NONE, 0, Z_DEFAULT_STRATEGY},
    };
    for (size_t k = 0; k < sizeof more / sizeof more[0]; k++)
        same_bytes_as_plain_libpng(&more[k], 2);
}

/* ------------------------------------------------------- the noise reader */

Test(noise_reader, pieces_of_any_size_give_the_definition)
{
    enum { N = 1000 };
    unsigned char want[N], got[N];
    ws_rng r = ws_rng_make(11, 42);
    ws_rng_fill(&r, want, N);
    const size_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 13, 16, 100, 101, 0, 250};
    for (uint64_t start = 0; start < 20; start++) {
        wstask_noise_reader rd = wstask_noise_reader_at(ws_rng_make(11, 42), start);
        size_t at = (size_t)start, k = 0;
        memset(got, 0, sizeof got);
        while (at < N) {
            size_t n = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
            if (n > N - at)
                n = N - at;
            wstask_noise_read(&rd, got + at, n);
            at += n;
        }
        cr_assert(memcmp(got + start, want + start, N - start) == 0,
                  "reader from byte %llu differs from ws_rng_fill", (unsigned long long)start);
    }
}

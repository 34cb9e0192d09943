/*
 * fill.c - the built-in "fill" plugin (the seed's Example 3, without the
 * global RawArray): one array of shape (N, H, W) or (N, H, W, C), uint8 or
 * uint16, lives in a memory-mapped .npy file, and task i writes slot i
 * straight from file i (decoded by libpng), the noise plugin's pixels, a
 * constant or the index.  numpy.load(path) and numpy.load(path,
 * mmap_mode='r') read the result with no conversion.
 *
 * Must never leave a .npy at the output path unless every task succeeded
 * (it is written under a temporary name and renamed in finish), never
 * write outside slot i from task i, and never let the worker or -j change
 * a byte of the output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "wsrun.h"
#include "common/input.h"
#include "noise_pixels.h"
#include "npy.h"
#include "common/png_read.h"

enum { SOURCE_FILES = 0, SOURCE_NOISE = 1, SOURCE_CONSTANT = 2, SOURCE_INDEX = 3 };
static const char *const source_names[] = {"files", "noise", "constant", "index"};
enum { DTYPE_U8 = 0, DTYPE_U16 = 1 };

static const ws_option fill_options[] = {
    {"output", WS_OPT_STRING, NULL, "the .npy file to write (required)", NULL, 0, 0},
    {"source", WS_OPT_ENUM, "files",
     "files: decode the input; noise: the noise plugin's pixels for --seed; constant: "
     "-o value; index: every sample of image i is i (mod 256 or 65536)",
     "files|noise|constant|index", 0, 0},
    {"input", WS_OPT_STRING, NULL,
     "source=files: a glob ('image_*.png'), a folder, one image (photo.png), a list file "
     "of paths ('-' = stdin) or image_%d.png", NULL, 0, 0},
    {"width", WS_OPT_INT, NULL, "image width (default: the first file's)", NULL, 1, 2147483647},
    {"height", WS_OPT_INT, NULL, "image height (default: the first file's)", NULL, 1, 2147483647},
    {"channels", WS_OPT_INT, NULL, "samples per pixel; 1 gives shape (N, H, W) (default: the "
     "first file's, or 1)", NULL, 1, 4},
    {"dtype", WS_OPT_ENUM, NULL, "sample type (default: the first file's, or u8)", "u8|u16", 0, 0},
    {"value", WS_OPT_INT, "0", "source=constant: the value of every sample", NULL, 0, 65535},
    {"convert", WS_OPT_ENUM, "keep", "source=files: pixels as stored, or 8-bit gray or RGB",
     WSTASK_CONVERT_CHOICES, 0, 0},
    {"max-pixels", WS_OPT_INT, WSTASK_DEFAULT_MAX_PIXELS,
     "refuse images with more pixels than this (checked from the header)", NULL, 1, 1e18},
    {"sync", WS_OPT_BOOL, "false", "write the array to disk (msync) before renaming it into place",
     NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

typedef struct fill_state {
    wstask_input input;
    int source, convert, sync;
    uint64_t max_pixels, seed;
    unsigned value;
    uint32_t width, height, channels, sample_bytes;
    char shape_origin[256]; /* "the options" or the file that set the shape */
    uint64_t count, slot_bytes;
    unsigned char *map; /* the whole file, header first */
    size_t map_len, data_offset;
    int map_fd;
    long page_size;
    _Atomic int populate_works; /* cleared once the kernel says EINVAL */
    /* Slots written; finish wants all of them.  ws_shared_alloc memory, so
     * that worker processes (--isolate) count here too. */
    _Atomic uint64_t *filled;
    ws_outfile out;
} fill_state;

/* "(100, 100) uint8" or "(100, 100, 3) uint16": one image, as NumPy shows it. */
static void fill_describe(char *buf, size_t size, uint32_t width, uint32_t height,
                          uint32_t channels, uint32_t sample_bytes)
{
    if (channels == 1)
        snprintf(buf, size, "(%u, %u) uint%u", height, width, 8 * sample_bytes);
    else
        snprintf(buf, size, "(%u, %u, %u) uint%u", height, width, channels, 8 * sample_bytes);
}

static void fill_state_free(fill_state *st)
{
    if (st->map)
        munmap(st->map, st->map_len);
    if (st->map_fd >= 0)
        close(st->map_fd);
    wstask_input_free(&st->input);
    free(st);
}

/* The shape: options where given, the first file for the rest. */
static int fill_settle_shape(fill_state *st, ws_ctx *ctx)
{
    int given_w = ws_opt_given(ctx, "width"), given_h = ws_opt_given(ctx, "height");
    int given_c = ws_opt_given(ctx, "channels"), given_d = ws_opt_given(ctx, "dtype");
    st->width = (uint32_t)ws_opt_int(ctx, "width");
    st->height = (uint32_t)ws_opt_int(ctx, "height");
    st->channels = given_c ? (uint32_t)ws_opt_int(ctx, "channels") : 1;
    st->sample_bytes = given_d && ws_opt_enum(ctx, "dtype") == DTYPE_U16 ? 2 : 1;
    snprintf(st->shape_origin, sizeof st->shape_origin, "the options");

    if (st->source != SOURCE_FILES) {
        if (!given_w || !given_h)
            return ws_fail(ctx, "-o source=%s needs -o width=... and -o height=... (and "
                                "optionally channels, dtype)",
                           source_names[st->source]);
        if (st->sample_bytes == 1 && st->value > 255 && st->source == SOURCE_CONSTANT)
            return ws_fail(ctx, "-o value=%u does not fit dtype u8 (0..255)", st->value);
        return WS_OK;
    }
    if (given_w && given_h && given_c && given_d)
        return WS_OK;

    wstask_png_reader probe;
    memset(&probe, 0, sizeof probe);
    wstask_image_info info;
    const char *first = st->input.paths[0];
    char origin[WSTASK_INPUT_ORIGIN_MAX];
    int rc = wstask_png_open(&probe, first, st->convert, st->max_pixels, &info);
    if (rc != 0)
        rc = ws_fail(ctx, "%s%s (index 0, whose shape the array takes): %s; -o width, height, "
                          "channels and dtype set the shape instead",
                     wstask_input_origin(&st->input, 0, origin, sizeof origin), first, probe.why);
    wstask_png_reader_fini(&probe);
    if (rc != 0)
        return rc;
    if (!given_w)
        st->width = info.width;
    if (!given_h)
        st->height = info.height;
    if (!given_c)
        st->channels = info.channels;
    if (!given_d)
        st->sample_bytes = info.bit_depth / 8;
    snprintf(st->shape_origin, sizeof st->shape_origin, "%s%s", first,
             given_w || given_h || given_c || given_d ? " and the options" : "");
    return WS_OK;
}

/* Create the temporary file at full size and map it.  The file is sparse
 * here: the space is taken slot by slot, by the task that fills the slot
 * (fill_reserve), so that work runs in parallel.  A disk that plainly
 * cannot hold the array is refused now. */
static int fill_create(fill_state *st, ws_ctx *ctx, const char *output)
{
    uint64_t shape[4] = {st->count, st->height, st->width, st->channels};
    int ndim = st->channels == 1 ? 3 : 4;
    unsigned char header[WSTASK_NPY_HEADER_MAX];
    size_t header_len =
        wstask_npy_header(header, sizeof header, st->sample_bytes == 1 ? "|u1" : "<u2", shape, ndim);
    uint64_t data_bytes;
    if (header_len == 0 ||
        __builtin_mul_overflow(st->count, st->slot_bytes, &data_bytes) ||
        data_bytes > (uint64_t)SIZE_MAX - header_len || data_bytes > (uint64_t)INT64_MAX - 4096)
        return ws_fail(ctx, "array of %" PRIu64 " images of %" PRIu64 " bytes is too large",
                       st->count, st->slot_bytes);
    st->data_offset = header_len;
    st->map_len = header_len + (size_t)data_bytes;

    /* Never replace a device or pipe by renaming over it. */
    struct stat sb;
    if (stat(output, &sb) == 0 && !S_ISREG(sb.st_mode))
        return ws_fail(ctx, "-o output=%s is not a regular file; the array must be a file that "
                            "can be mapped",
                       output);
    if (ws_outfile_open(ctx, &st->out, output) != WS_OK)
        return WS_ERR;
    /* ws_outfile's descriptor is write-only; a shared writable mapping
     * needs one opened for reading too. */
    st->map_fd = open(st->out.temp_path, O_RDWR | O_CLOEXEC);
    if (st->map_fd < 0)
        return ws_fail(ctx, "cannot reopen %s for mapping: %s", st->out.temp_path, strerror(errno));
    struct statvfs fs;
    if (fstatvfs(st->map_fd, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < st->map_len)
        return ws_fail(ctx, "cannot make %s %zu bytes long (%" PRIu64 " images of %" PRIu64
                            " bytes): %s (%" PRIu64 " bytes free)",
                       output, st->map_len, st->count, st->slot_bytes, strerror(ENOSPC),
                       (uint64_t)fs.f_bavail * fs.f_frsize);
    if (ftruncate(st->map_fd, (off_t)st->map_len) != 0)
        return ws_fail(ctx, "cannot make %s %zu bytes long (%" PRIu64 " images of %" PRIu64
                            " bytes): %s",
                       output, st->map_len, st->count, st->slot_bytes, strerror(errno));
    void *map = mmap(NULL, st->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, st->map_fd, 0);
    if (map == MAP_FAILED)
        return ws_fail(ctx, "cannot map %s (%zu bytes): %s", output, st->map_len, strerror(errno));
    st->map = (unsigned char *)map;
    memcpy(st->map, header, header_len);
    return WS_OK;
}

static int fill_init(ws_ctx *ctx, void **state)
{
    fill_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->map_fd = -1;
    st->out.fd = -1;
    st->page_size = sysconf(_SC_PAGESIZE);
    atomic_init(&st->populate_works, 1);
    st->filled = ws_shared_alloc(ctx, sizeof *st->filled); /* zeroed; freed by wsrun */
    if (!st->filled) {
        free(st);
        return ws_fail(ctx, "out of memory");
    }
    st->source = ws_opt_enum(ctx, "source");
    st->convert = ws_opt_enum(ctx, "convert");
    st->sync = ws_opt_bool(ctx, "sync");
    st->max_pixels = (uint64_t)ws_opt_int(ctx, "max-pixels");
    st->value = (unsigned)ws_opt_int(ctx, "value");
    st->seed = ws_run_seed(ctx);
    const char *output = ws_opt_str(ctx, "output");

    if (!output || !*output) {
        free(st);
        return ws_fail(ctx, "-o output=FILE.npy is required");
    }
    if (st->source == SOURCE_FILES) {
        if (wstask_input_select(ctx, ws_opt_str(ctx, "input"), &st->input) != WS_OK) {
            free(st);
            return WS_ERR;
        }
        st->count = st->input.n;
    } else {
        const char *source = source_names[st->source];
        if (ws_opt_given(ctx, "input")) {
            free(st);
            return ws_fail(ctx, "-o input is only for -o source=files, not source=%s", source);
        }
        if (!ws_count_given(ctx)) {
            free(st);
            return ws_fail(ctx, "-o source=%s needs --count N (the number of images)", source);
        }
        st->count = ws_run_count(ctx);
    }
    if (fill_settle_shape(st, ctx) != WS_OK) {
        fill_state_free(st);
        return WS_ERR;
    }
    st->slot_bytes = wstask_noise_image_bytes(st->width, st->height, st->channels, st->sample_bytes);
    int too_many_pixels = st->source == SOURCE_FILES &&
                          (uint64_t)st->width * st->height > st->max_pixels;
    if (st->slot_bytes == 0 || too_many_pixels) {
        char shape[96];
        fill_describe(shape, sizeof shape, st->width, st->height, st->channels, st->sample_bytes);
        fill_state_free(st);
        return ws_fail(ctx, "image shape %s is %s", shape,
                       too_many_pixels ? "over the max-pixels limit" : "too large");
    }
    if (fill_create(st, ctx, output) != WS_OK) {
        ws_outfile_abort(&st->out);
        fill_state_free(st);
        return WS_ERR;
    }
    *state = st;
    return WS_OK;
}

static int fill_worker_init(void *state, ws_ctx *ctx)
{
    const fill_state *st = (const fill_state *)state;
    if (st->source != SOURCE_FILES)
        return WS_OK;
    wstask_png_reader *r = calloc(1, sizeof *r);
    if (!r)
        return ws_fail(ctx, "out of memory for a worker's decoder");
    ctx->worker_data = r;
    return WS_OK;
}

static void fill_worker_fini(void *state, ws_ctx *ctx)
{
    (void)state;
    wstask_png_reader *r = (wstask_png_reader *)ctx->worker_data;
    if (!r)
        return;
    wstask_png_reader_fini(r);
    free(r);
    ctx->worker_data = NULL;
}

static void swap_pairs(unsigned char *p, size_t n)
{
    for (size_t k = 0; k + 1 < n; k += 2) {
        unsigned char hi = p[k];
        p[k] = p[k + 1];
        p[k + 1] = hi;
    }
}

static void fill_u16(unsigned char *p, size_t n, unsigned value)
{
    for (size_t k = 0; k + 1 < n; k += 2) {
        p[k] = (unsigned char)(value & 0xff);
        p[k + 1] = (unsigned char)(value >> 8);
    }
}

static int fill_from_file(const fill_state *st, uint64_t index, unsigned char *slot, ws_ctx *ctx)
{
    wstask_png_reader *r = (wstask_png_reader *)ctx->worker_data;
    const char *path = st->input.paths[index];
    /* Messages name a listed file's list and line too ("list.txt:3: "). */
    char origin_buf[WSTASK_INPUT_ORIGIN_MAX];
#define ORIGIN wstask_input_origin(&st->input, index, origin_buf, sizeof origin_buf)
    wstask_image_info info;
    if (wstask_png_open(r, path, st->convert, st->max_pixels, &info) != 0)
        return ws_fail(ctx, "%s%s: %s", ORIGIN, path, r->why);
    if (info.width != st->width || info.height != st->height || info.channels != st->channels ||
        info.bit_depth != 8 * st->sample_bytes) {
        wstask_png_reader_close(r);
        char got[96], want[96];
        fill_describe(got, sizeof got, info.width, info.height, info.channels, info.bit_depth / 8);
        fill_describe(want, sizeof want, st->width, st->height, st->channels, st->sample_bytes);
        return ws_fail(ctx, "%s%s: image is %s but the array's images are %s (set by %s)", ORIGIN,
                       path, got, want, st->shape_origin);
    }
    if (wstask_png_read_pixels(r, slot, (size_t)info.row_bytes) != 0)
        return ws_fail(ctx, "%s%s: %s", ORIGIN, path, r->why);
    return WS_OK;
#undef ORIGIN
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* Take the pages of one slot before writing it.  MADV_POPULATE_WRITE maps
 * them writable in one call (one fault per page costs about 15 us on some
 * virtual machines) and, unlike a plain write, reports a full disk as an
 * error instead of killing the process with SIGBUS.  Kernels without it get
 * fallocate of the slot's bytes, which reports a full disk too. */
static int fill_reserve(fill_state *st, uint64_t index, unsigned char *slot, size_t n,
                        ws_ctx *ctx)
{
    if (n == 0)
        return WS_OK;
    if (atomic_load_explicit(&st->populate_works, memory_order_relaxed)) {
        uintptr_t page = (uintptr_t)st->page_size;
        uintptr_t start = (uintptr_t)slot & ~(page - 1);
        uintptr_t end = ((uintptr_t)slot + n + page - 1) & ~(page - 1);
        if (madvise((void *)start, end - start, MADV_POPULATE_WRITE) == 0)
            return WS_OK;
        if (errno != EINVAL && errno != ENOSYS)
            return ws_fail(ctx, "no room for image %" PRIu64 " in %s (%s): the disk is full or "
                                "the file is over a size limit",
                           index, st->out.final_path, strerror(errno));
        atomic_store_explicit(&st->populate_works, 0, memory_order_relaxed);
    }
    off_t offset = (off_t)(slot - st->map);
    if (fallocate(st->map_fd, 0, offset, (off_t)n) != 0 && errno != EOPNOTSUPP)
        return ws_fail(ctx, "no room for image %" PRIu64 " in %s: %s", index,
                       st->out.final_path, strerror(errno));
    return WS_OK;
}

static int fill_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    fill_state *st = (fill_state *)state;
    unsigned char *slot = st->map + st->data_offset + index * st->slot_bytes;
    size_t n = (size_t)st->slot_bytes;
    if (fill_reserve(st, index, slot, n, ctx) != WS_OK)
        return WS_ERR;
    /* relaxed: finish reads the count after the workers were joined. */
    atomic_fetch_add_explicit(st->filled, 1, memory_order_relaxed);
    switch (st->source) {
    case SOURCE_FILES:
        if (fill_from_file(st, index, slot, ctx) == WS_OK)
            return WS_OK;
        atomic_fetch_sub_explicit(st->filled, 1, memory_order_relaxed);
        return WS_ERR;
    case SOURCE_NOISE:
        /* The noise definition is PNG's byte order; '<u2' is little-endian,
         * so 16-bit samples are swapped to equal what decoding the noise
         * plugin's files gives. */
        wstask_noise_pixels(st->seed, index, slot, n);
        if (st->sample_bytes == 2)
            swap_pairs(slot, n);
        return WS_OK;
    case SOURCE_CONSTANT:
        if (st->sample_bytes == 1)
            memset(slot, (int)st->value, n);
        else
            fill_u16(slot, n, st->value);
        return WS_OK;
    default:
        if (st->sample_bytes == 1)
            memset(slot, (int)(index & 0xff), n);
        else
            fill_u16(slot, n, (unsigned)(index & 0xffff));
        return WS_OK;
    }
}

static int fill_finish(void *state, int run_status, ws_ctx *ctx)
{
    fill_state *st = (fill_state *)state;
    if (run_status != 0) {
        ws_outfile_abort(&st->out);
        fill_state_free(st);
        return WS_OK;
    }
    uint64_t filled = atomic_load_explicit(st->filled, memory_order_relaxed);
    if (filled != st->count) {
        /* Indices skipped by this process (--shard) would leave slots of
         * zeros that look like data. */
        uint64_t count = st->count;
        ws_outfile_abort(&st->out);
        fill_state_free(st);
        return ws_fail(ctx, "only %" PRIu64 " of %" PRIu64 " images were filled in this process "
                            "(--shard?); an array needs all of them, so none was written",
                       filled, count);
    }
    const char *failed = NULL;
    int err = 0;
    if (st->sync && msync(st->map, st->map_len, MS_SYNC) != 0) {
        failed = "msync";
        err = errno;
    }
    if (munmap(st->map, st->map_len) != 0 && !failed) {
        failed = "munmap";
        err = errno;
    }
    st->map = NULL;
    if (close(st->map_fd) != 0 && !failed) {
        failed = "close";
        err = errno;
    }
    st->map_fd = -1;
    if (failed) {
        int rc = ws_fail(ctx, "cannot write %s (%s): %s", st->out.final_path, failed,
                         strerror(err));
        ws_outfile_abort(&st->out);
        fill_state_free(st);
        return rc;
    }
    char shape[96];
    fill_describe(shape, sizeof shape, st->width, st->height, st->channels, st->sample_bytes);
    int rc = ws_outfile_commit(ctx, &st->out);
    if (rc == WS_OK)
        ws_log(ctx, "wrote %s: %" PRIu64 " images of %s, %zu bytes", st->out.final_path,
               st->count, shape, st->map_len);
    fill_state_free(st);
    return rc;
}

static const ws_plugin fill_plugin = {
    /* run_one writes into the array's shared file mapping and counts in
     * ws_shared_alloc memory: both survive in a worker process. */
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_ISOLATABLE),
    .name = "fill",
    .version = "1.1", /* 1.1: inputs named as images are images */
    .description = "fill one (N, H, W[, C]) uint8/uint16 array in a .npy file, slot i from file i "
                   "(or noise, a constant, the index)",
    .options = fill_options,
    .init = fill_init,
    .run_one = fill_run_one,
    .finish = fill_finish,
    .worker_init = fill_worker_init,
    .worker_fini = fill_worker_fini,
};

WS_PLUGIN_DEFINE(fill_plugin)

/*
 * noise.c - the built-in "noise" plugin (the seed's Example 1): image i of
 * the run becomes <prefix><i>.png, uniform random noise whose pixels are
 * wstask_noise_pixels(seed, i) (tasks/noise_pixels.h), so the same --seed gives
 * byte-identical files for any -j.  Must never leave a partial file where a
 * finished image belongs (temporary name, renamed into place), never print,
 * and never change process-wide state (no mallopt, no chdir, no umask).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "wsrun.h"
#include "noise_pixels.h"
#include "png_write.h"

/* The seed writes 2000 images; so does a run without --count. */
#define NOISE_DEFAULT_COUNT 2000

/* Defaults picked by measurement (docs/noise.md): noise does not
 * compress, so zlib level 0 (stored blocks) and no row filter are the
 * fastest settings and give files as small as any other setting. */
static const ws_option noise_options[] = {
    {"width", WS_OPT_INT, "100", "image width in pixels", NULL, 1, 65535},
    {"height", WS_OPT_INT, "100", "image height in pixels", NULL, 1, 65535},
    {"prefix", WS_OPT_STRING, "image_",
     "path before the index, may include a folder: out/img_ writes out/img_<i>.png", NULL, 0, 0},
    {"channels", WS_OPT_ENUM, "gray", "samples per pixel", "gray|rgb", 0, 0},
    {"depth", WS_OPT_ENUM, "8", "bits per sample", "8|16", 0, 0},
    {"level", WS_OPT_INT, "0", "zlib compression level (0 = stored, fastest for noise)", NULL, 0, 9},
    {"filter", WS_OPT_ENUM, "none", "PNG row filter; adaptive = libpng picks per row",
     "none|sub|up|avg|paeth|adaptive", 0, 0},
    {"strategy", WS_OPT_ENUM, "default", "zlib strategy",
     "default|filtered|huffman|rle|fixed", 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* In the order of the "filter" and "strategy" choices above. */
static const int noise_filters[] = {PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP,
                                    PNG_FILTER_AVG, PNG_FILTER_PAETH, PNG_ALL_FILTERS};
static const int noise_strategies[] = {Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY,
                                       Z_RLE, Z_FIXED};

/* Room for the index and ".png" after the prefix in a 4096-byte path. */
#define NOISE_MAX_PREFIX 4000

typedef struct noise_config {
    wstask_png_format format;
    size_t rowbytes;
    char prefix[NOISE_MAX_PREFIX + 1];
} noise_config;

/* Rows are drawn a block at a time, as many whole rows as fit in this
 * (one row when a row is longer): the byte loops at the ends of a draw
 * (noise_pixels.h) then run once per block instead of once per row, and a
 * default image is drawn in one piece, as a plain loop would. */
#define NOISE_BLOCK_BYTES (64u * 1024u)

typedef struct noise_worker {
    wstask_png_writer png;
    unsigned char *block; /* block_rows rows */
    uint32_t block_rows;
    ws_outfile out;
    char path[4096];
} noise_worker;

/* One image's rows: row y is bytes [y * rowbytes, (y + 1) * rowbytes) of
 * the image's sample stream (the definition in noise_pixels.h).  The writer
 * asks for the rows in order, so blocks are read from one running reader;
 * a row out of order would only move the reader first. */
typedef struct noise_rows {
    ws_rng stream;
    size_t rowbytes;
    uint32_t height;
    uint32_t block_rows;
    uint32_t first; /* the row at the start of block[], when have > 0 */
    uint32_t have;  /* rows in block[] */
    unsigned char *block;
    wstask_noise_reader reader; /* stands at row first + have */
} noise_rows;

static const unsigned char *noise_row(void *arg, uint32_t y)
{
    noise_rows *r = (noise_rows *)arg;
    if (!r->have || y < r->first || y - r->first >= r->have) {
        if (!r->have || y != r->first + r->have)
            r->reader = wstask_noise_reader_at(r->stream, (uint64_t)y * r->rowbytes);
        r->first = y;
        r->have = r->height - y < r->block_rows ? r->height - y : r->block_rows;
        wstask_noise_read(&r->reader, r->block, (size_t)r->have * r->rowbytes);
    }
    return r->block + (size_t)(y - r->first) * r->rowbytes;
}

static int noise_init(ws_ctx *ctx, void **state)
{
    int64_t width = ws_opt_int(ctx, "width");
    int64_t height = ws_opt_int(ctx, "height");
    int channels = ws_opt_enum(ctx, "channels") == 0 ? 1 : 3;
    int depth = ws_opt_enum(ctx, "depth") == 0 ? 8 : 16;
    int64_t level = ws_opt_int(ctx, "level");
    const char *prefix = ws_opt_str(ctx, "prefix");

    if (width < 1 || width > 65535 || height < 1 || height > 65535)
        return ws_fail(ctx, "-o width=%" PRId64 " -o height=%" PRId64 ": each must be 1..65535",
                       width, height);
    if (level < 0 || level > 9)
        return ws_fail(ctx, "-o level=%" PRId64 ": must be 0..9", level);
    uint64_t bytes = wstask_noise_image_bytes((uint64_t)width, (uint64_t)height,
                                          (uint64_t)channels, (uint64_t)(depth / 8));
    if (bytes == 0 || bytes > WSTASK_NOISE_MAX_IMAGE_BYTES)
        return ws_fail(ctx,
                       "-o width=%" PRId64 " -o height=%" PRId64 " with %d channel(s) of %d bits "
                       "is %" PRIu64 " bytes per image, over the %" PRIu64 "-byte limit",
                       width, height, channels, depth, bytes, WSTASK_NOISE_MAX_IMAGE_BYTES);
    if (!prefix)
        prefix = "";
    if (strlen(prefix) > NOISE_MAX_PREFIX)
        return ws_fail(ctx, "-o prefix: %zu characters, longer than %d", strlen(prefix),
                       NOISE_MAX_PREFIX);

    noise_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return ws_fail(ctx, "out of memory for the noise settings");
    cfg->format.width = (uint32_t)width;
    cfg->format.height = (uint32_t)height;
    cfg->format.bit_depth = depth;
    cfg->format.color_type = channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
    cfg->format.filters = noise_filters[ws_opt_enum(ctx, "filter")];
    cfg->format.level = (int)level;
    cfg->format.strategy = noise_strategies[ws_opt_enum(ctx, "strategy")];
    cfg->rowbytes = (size_t)width * (size_t)channels * (size_t)(depth / 8);
    memcpy(cfg->prefix, prefix, strlen(prefix) + 1);

    if (!ws_count_given(ctx))
        ws_set_count(ctx, NOISE_DEFAULT_COUNT);
    *state = cfg;
    return WS_OK;
}

static int noise_worker_init(void *state, ws_ctx *ctx)
{
    const noise_config *cfg = (const noise_config *)state;
    noise_worker *w = calloc(1, sizeof *w);
    if (!w)
        return ws_fail(ctx, "out of memory for a worker's buffers");
    size_t rows = NOISE_BLOCK_BYTES / cfg->rowbytes;
    if (rows < 1)
        rows = 1;
    if (rows > cfg->format.height)
        rows = cfg->format.height;
    w->block_rows = (uint32_t)rows;
    w->block = malloc(rows * cfg->rowbytes);
    if (!w->block || wstask_png_writer_init(&w->png) != 0) {
        free(w->block);
        free(w);
        return ws_fail(ctx, "out of memory for a worker's buffers (%zu-byte rows)", cfg->rowbytes);
    }
    ctx->worker_data = w;
    return WS_OK;
}

static void noise_worker_fini(void *state, ws_ctx *ctx)
{
    (void)state;
    noise_worker *w = (noise_worker *)ctx->worker_data;
    if (!w)
        return;
    wstask_png_writer_fini(&w->png);
    free(w->block);
    free(w);
    ctx->worker_data = NULL;
}

static int noise_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    const noise_config *cfg = (const noise_config *)state;
    noise_worker *w = (noise_worker *)ctx->worker_data;
    if (!w)
        return ws_fail(ctx, "worker buffers missing (worker_init was not run)");

    snprintf(w->path, sizeof w->path, "%s%" PRIu64 ".png", cfg->prefix, index);
    /* the writer only writes to the descriptor: commit or abort closes it */
    if (ws_outfile_open_flags(ctx, &w->out, w->path, WS_OUTFILE_KEEP_FD) != WS_OK)
        return WS_ERR; /* the message names the path and the reason */

    noise_rows rows;
    memset(&rows, 0, sizeof rows);
    rows.stream = ws_rng_for(ctx, index);
    rows.rowbytes = cfg->rowbytes;
    rows.height = cfg->format.height;
    rows.block_rows = w->block_rows;
    rows.block = w->block;
    if (wstask_png_write_fd(&w->png, w->out.fd, &cfg->format, noise_row, &rows) != 0) {
        ws_outfile_abort(&w->out);
        return ws_fail(ctx, "cannot write %s: %s", w->path, w->png.reason);
    }
    return ws_outfile_commit(ctx, &w->out);
}

static int noise_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)run_status; /* every file is already whole or absent */
    (void)ctx;
    free(state);
    return WS_OK;
}

static const ws_plugin noise_plugin = {
    /* one file per index: --resume works, and a worker process (--isolate)
     * leaves nothing in memory that finish needs */
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_RESUMABLE | WS_PLUGIN_ISOLATABLE),
    .name = "noise",
    .version = "1.0",
    .description = "write <prefix><i>.png images of deterministic uniform noise (default 2000)",
    .options = noise_options,
    .init = noise_init,
    .run_one = noise_run_one,
    .finish = noise_finish,
    .worker_init = noise_worker_init,
    .worker_fini = noise_worker_fini,
};

WS_PLUGIN_DEFINE(noise_plugin)

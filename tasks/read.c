/*
 * read.c - the built-in "read" plugin (the seed's Example 2, in order):
 * task i reads file i of -o input=..., decodes it with libpng (or takes its
 * bytes as they are), and records its size and XXH64 checksum in slot i of
 * a preallocated array; finish prints the manifest in index order (CSV
 * and TSV: one row per file and nothing else; the total goes to stderr).  With
 * -o verify=true it checks each image against the noise plugin's pixels.
 *
 * Must never print a partial manifest (a failed run prints none and leaves
 * no manifest file), never take a lock in run_one (each task owns its slot),
 * and never let the worker or -j change a byte of the output.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wsrun.h"
#include "common/input.h"
#include "common/manifest.h"
#include "noise_pixels.h"
#include "common/png_read.h"
#include "xxh64.h"

enum { MODE_PNG = 0, MODE_RAW = 1, MODE_AUTO = 2 };
enum { FORMAT_CSV = 0, FORMAT_JSON = 1, FORMAT_TSV = 2 };

static const ws_option read_options[] = {
    {"input", WS_OPT_STRING, NULL,
     "files to read: a glob ('image_*.png'), a folder, one image (photo.png), a list file "
     "of paths ('-' = stdin) or image_%d.png", NULL, 0, 0},
    {"mode", WS_OPT_ENUM, "png", "png: decode (non-PNG is an error); raw: checksum the bytes; "
     "auto: decode PNGs, raw for the rest", "png|raw|auto", 0, 0},
    {"convert", WS_OPT_ENUM, "keep", "pixels as stored (16-bit kept, little-endian), or 8-bit "
     "gray or RGB", WSTASK_CONVERT_CHOICES, 0, 0},
    {"format", WS_OPT_ENUM, "csv", "manifest format; csv and tsv hold one row per file (the "
     "total is a line on stderr), json ends with a total object", "csv|json|tsv", 0, 0},
    {"output", WS_OPT_STRING, "-", "manifest file, '-' for stdout", NULL, 0, 0},
    {"verify", WS_OPT_BOOL, "false",
     "compare each image with the noise plugin's pixels for --seed and index i", NULL, 0, 0},
    {"max-pixels", WS_OPT_INT, WSTASK_DEFAULT_MAX_PIXELS,
     "refuse images with more pixels than this (checked from the header)", NULL, 1, 1e18},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

typedef struct read_result {
    uint64_t bytes;    /* decoded pixel bytes, or the file's bytes in raw mode */
    uint64_t checksum; /* XXH64 of those bytes */
    uint32_t width, height;
    uint8_t channels, bit_depth; /* 0 for a file read raw */
    uint8_t done;
    uint8_t mismatch; /* verify found other pixels */
} read_result;

typedef struct read_state {
    wstask_input input;
    /* One per index, written only by that index's task; ws_shared_alloc
     * memory (freed by wsrun), so worker processes (--isolate) write here. */
    read_result *results;
    int mode, convert, format, verify;
    uint64_t max_pixels;
    uint64_t seed;
    /* The manifest goes to a file under a temporary name (out), or straight
     * to direct_fd: stdout, or an existing device or pipe, which must never
     * be replaced by a rename (-o output=/dev/null as root would). */
    int direct_fd; /* -1: use out */
    char direct_name[64];
    ws_outfile out;
} read_state;

typedef struct read_worker {
    wstask_png_reader png;
    unsigned char *pixels, *expected;
    size_t pixels_cap, expected_cap;
} read_worker;

static void read_state_free(read_state *st)
{
    if (st->direct_fd > 2)
        close(st->direct_fd);
    wstask_input_free(&st->input);
    free(st);
}

static int read_open_output(read_state *st, const char *output, ws_ctx *ctx)
{
    struct stat sb;
    st->direct_fd = -1;
    if (!output || strcmp(output, "-") == 0) {
        st->direct_fd = 1;
        snprintf(st->direct_name, sizeof st->direct_name, "stdout");
        return WS_OK;
    }
    if (stat(output, &sb) == 0 && S_ISDIR(sb.st_mode))
        return ws_fail(ctx, "-o output=%s is a folder, not a file", output);
    if (stat(output, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        st->direct_fd = open(output, O_WRONLY | O_CLOEXEC);
        if (st->direct_fd < 0)
            return ws_fail(ctx, "cannot open %s: %s", output, strerror(errno));
        snprintf(st->direct_name, sizeof st->direct_name, "%.63s", output);
        return WS_OK;
    }
    return ws_outfile_open(ctx, &st->out, output);
}

static int read_init(ws_ctx *ctx, void **state)
{
    read_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->out.fd = -1;
    st->mode = ws_opt_enum(ctx, "mode");
    st->convert = ws_opt_enum(ctx, "convert");
    st->format = ws_opt_enum(ctx, "format");
    st->verify = ws_opt_bool(ctx, "verify");
    st->max_pixels = (uint64_t)ws_opt_int(ctx, "max-pixels");
    st->seed = ws_run_seed(ctx);

    if (st->verify && (st->mode == MODE_RAW || st->convert != WSTASK_CONVERT_KEEP)) {
        free(st);
        return ws_fail(ctx, "-o verify=true compares decoded pixels as stored: it needs "
                            "-o mode=png (or auto) and -o convert=keep");
    }
    if (wstask_input_select(ctx, ws_opt_str(ctx, "input"), &st->input) != WS_OK) {
        free(st);
        return WS_ERR;
    }
    st->results = ws_shared_alloc(ctx, (st->input.n ? st->input.n : 1) * sizeof *st->results);
    if (!st->results) {
        size_t n = st->input.n;
        read_state_free(st);
        return ws_fail(ctx, "out of memory for %zu results", n);
    }
    /* Opened now so a missing folder is reported before any work. */
    if (read_open_output(st, ws_opt_str(ctx, "output"), ctx) != WS_OK) {
        read_state_free(st);
        return WS_ERR;
    }
    *state = st;
    return WS_OK;
}

static int read_worker_init(void *state, ws_ctx *ctx)
{
    (void)state;
    read_worker *w = calloc(1, sizeof *w);
    if (!w)
        return ws_fail(ctx, "out of memory for a worker's buffers");
    ctx->worker_data = w;
    return WS_OK;
}

static void read_worker_fini(void *state, ws_ctx *ctx)
{
    (void)state;
    read_worker *w = (read_worker *)ctx->worker_data;
    if (!w)
        return;
    wstask_png_reader_fini(&w->png);
    free(w->pixels);
    free(w->expected);
    free(w);
    ctx->worker_data = NULL;
}

static int grow(unsigned char **buf, size_t *cap, uint64_t want)
{
    if (want <= *cap)
        return 0;
    if (want > SIZE_MAX / 2)
        return -1;
    size_t size = *cap ? *cap : 4096;
    while (size < want)
        size *= 2;
    unsigned char *p = (unsigned char *)realloc(*buf, size);
    if (!p)
        return -1;
    *buf = p;
    *cap = size;
    return 0;
}

/* Compare image `index` with the noise plugin's pixels for it.  The noise
 * definition is PNG's byte order (16-bit big-endian); decoded 16-bit
 * samples are little-endian, so the expected bytes are swapped to match. */
static int read_verify(const read_state *st, read_worker *w, uint64_t index,
                       const wstask_image_info *info, const char *origin, const char *path,
                       ws_ctx *ctx)
{
    if (grow(&w->expected, &w->expected_cap, info->bytes) != 0)
        return ws_fail(ctx, "%s%s: out of memory for %" PRIu64 " expected bytes", origin, path,
                       info->bytes);
    wstask_noise_pixels(st->seed, index, w->expected, (size_t)info->bytes);
    if (info->bit_depth == 16) {
        for (size_t k = 0; k + 1 < info->bytes; k += 2) {
            unsigned char hi = w->expected[k];
            w->expected[k] = w->expected[k + 1];
            w->expected[k + 1] = hi;
        }
    }
    if (memcmp(w->pixels, w->expected, (size_t)info->bytes) == 0)
        return WS_OK;
    uint64_t first = UINT64_MAX, differing = 0;
    uint64_t pixel_bytes = (uint64_t)info->channels * (info->bit_depth / 8);
    for (uint64_t p = 0; p < info->bytes / pixel_bytes; p++) {
        if (memcmp(w->pixels + p * pixel_bytes, w->expected + p * pixel_bytes, pixel_bytes)) {
            if (first == UINT64_MAX)
                first = p;
            differing++;
        }
    }
    st->results[index].mismatch = 1;
    return ws_fail(ctx,
                   "%s%s: pixels differ from noise image %" PRIu64 " of seed %" PRIu64
                   " (%" PRIu64 " of %" PRIu64 " pixels differ, the first at x=%" PRIu64
                   " y=%" PRIu64 ")",
                   origin, path, index, st->seed, differing, info->bytes / pixel_bytes,
                   first % info->width, first / info->width);
}

/* mode=raw: XXH64 of the file's bytes, read through a fixed 64 KiB
 * buffer (a 2 GB file costs 64 KiB, not 2 GB, times -j), looking at
 * ws_stopping between reads so a Ctrl-C is not held up by a big file. */
static int read_raw(int fd, read_result *res, read_worker *w, ws_ctx *ctx)
{
    enum { RAW_CHUNK = 65536 };
    if (grow(&w->pixels, &w->pixels_cap, RAW_CHUNK) != 0) {
        snprintf(w->png.why, sizeof w->png.why, "out of memory for a read buffer");
        return WS_ERR;
    }
    wstask_xxh64_state h;
    wstask_xxh64_init(&h, 0);
    for (;;) {
        if (ws_stopping(ctx)) {
            snprintf(w->png.why, sizeof w->png.why, "stopped while reading (the run is stopping)");
            return WS_ERR;
        }
        ssize_t got = read(fd, w->pixels, RAW_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(w->png.why, sizeof w->png.why, "cannot read: %s", strerror(errno));
            return WS_ERR;
        }
        if (got == 0)
            break;
        wstask_xxh64_update(&h, w->pixels, (size_t)got);
    }
    res->bytes = h.total;
    res->checksum = wstask_xxh64_digest(&h);
    res->done = 1;
    return WS_OK;
}

static int read_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    read_state *st = (read_state *)state;
    read_worker *w = (read_worker *)ctx->worker_data;
    const char *path = st->input.paths[index];
    read_result *res = &st->results[index];
    /* Messages name a listed file's list and line too ("list.txt:3: "). */
    char origin_buf[WSTASK_INPUT_ORIGIN_MAX];
#define ORIGIN wstask_input_origin(&st->input, index, origin_buf, sizeof origin_buf)

    /* Never more of a file than it can need: a regular file only, a PNG
     * held whole only once its header and size fit max-pixels, any other
     * file hashed through a fixed buffer. */
    uint64_t size;
    int fd = wstask_input_open(path, &size, w->png.why, sizeof w->png.why);
    if (fd < 0)
        return ws_fail(ctx, "%s%s: %s", ORIGIN, path, w->png.why);
    int as_png = st->mode == MODE_PNG;
    if (st->mode == MODE_AUTO) {
        unsigned char head[8];
        ssize_t got = pread(fd, head, sizeof head, 0);
        as_png = got > 0 && wstask_is_png_data(head, (size_t)got);
    }
    if (!as_png) {
        if (st->verify) {
            close(fd);
            return ws_fail(ctx, "%s%s: not a PNG file, so it cannot be verified", ORIGIN, path);
        }
        int rc = read_raw(fd, res, w, ctx);
        close(fd);
        return rc == WS_OK ? WS_OK : ws_fail(ctx, "%s%s: %s", ORIGIN, path, w->png.why);
    }
    int loaded = wstask_png_load_fd(&w->png, fd, size, st->max_pixels);
    close(fd);
    if (loaded != 0)
        return ws_fail(ctx, "%s%s: %s", ORIGIN, path, w->png.why);

    wstask_image_info info;
    if (wstask_png_open_loaded(&w->png, st->convert, st->max_pixels, &info) != 0)
        return ws_fail(ctx, "%s%s: %s", ORIGIN, path, w->png.why);
    if (grow(&w->pixels, &w->pixels_cap, info.bytes) != 0) {
        wstask_png_reader_close(&w->png);
        return ws_fail(ctx, "%s%s: out of memory for %" PRIu64 " decoded bytes", ORIGIN, path,
                       info.bytes);
    }
    if (wstask_png_read_pixels(&w->png, w->pixels, (size_t)info.row_bytes) != 0)
        return ws_fail(ctx, "%s%s: %s", ORIGIN, path, w->png.why);
    res->width = info.width;
    res->height = info.height;
    res->channels = (uint8_t)info.channels;
    res->bit_depth = (uint8_t)info.bit_depth;
    res->bytes = info.bytes;
    res->checksum = wstask_xxh64(w->pixels, (size_t)info.bytes, 0);
    if (st->verify && read_verify(st, w, index, &info, ORIGIN, path, ctx) != WS_OK)
        return WS_ERR;
    res->done = 1;
    return WS_OK;
#undef ORIGIN
}

static void read_emit_row(wstask_textout *t, int format, uint64_t index, const char *path,
                          const read_result *r, int last)
{
    if (format == FORMAT_JSON) {
        wstask_textout_str(t, "  {\"index\": ");
        wstask_textout_u64(t, index);
        wstask_textout_str(t, ", \"path\": ");
        wstask_textout_json_string(t, path);
        wstask_textout_str(t, ", \"width\": ");
        wstask_textout_u64(t, r->width);
        wstask_textout_str(t, ", \"height\": ");
        wstask_textout_u64(t, r->height);
        wstask_textout_str(t, ", \"channels\": ");
        wstask_textout_u64(t, r->channels);
        wstask_textout_str(t, ", \"bit_depth\": ");
        wstask_textout_u64(t, r->bit_depth);
        wstask_textout_str(t, ", \"bytes\": ");
        wstask_textout_u64(t, r->bytes);
        wstask_textout_str(t, ", \"xxh64\": \"");
        wstask_textout_hex64(t, r->checksum);
        wstask_textout_str(t, last ? "\"}\n" : "\"},\n");
        return;
    }
    char sep = format == FORMAT_CSV ? ',' : '\t';
    wstask_textout_u64(t, index);
    wstask_textout_char(t, sep);
    if (format == FORMAT_CSV)
        wstask_textout_csv_field(t, path);
    else
        wstask_textout_tsv_field(t, path);
    const uint64_t fields[5] = {r->width, r->height, r->channels, r->bit_depth, r->bytes};
    for (int f = 0; f < 5; f++) {
        wstask_textout_char(t, sep);
        wstask_textout_u64(t, fields[f]);
    }
    wstask_textout_char(t, sep);
    wstask_textout_hex64(t, r->checksum);
    wstask_textout_char(t, '\n');
}

/* The whole manifest: a header and one row per index; JSON adds the total.
 * CSV and TSV carry no total row, so every row a table reader sees is a
 * file and every column keeps one type; their total goes to stderr
 * (read_finish).  The total checksum is XXH64 of the files' checksums,
 * each as 8 little-endian bytes, in index order. */
static void read_emit(const read_state *st, wstask_textout *t, uint64_t *total_bytes_out,
                      uint64_t *total_sum_out)
{
    size_t n = st->input.n;
    uint64_t total_bytes = 0;
    unsigned char *sums = malloc(n ? n * 8 : 1);
    if (st->format == FORMAT_JSON)
        wstask_textout_str(t, "{\"files\": [\n");
    else if (st->format == FORMAT_CSV)
        wstask_textout_str(t, "index,path,width,height,channels,bit_depth,bytes,xxh64\n");
    else
        wstask_textout_str(t, "index\tpath\twidth\theight\tchannels\tbit_depth\tbytes\txxh64\n");
    for (size_t i = 0; i < n; i++) {
        const read_result *r = &st->results[i];
        read_emit_row(t, st->format, i, st->input.paths[i], r, i + 1 == n);
        total_bytes += r->bytes;
        for (int k = 0; sums && k < 8; k++)
            sums[i * 8 + (size_t)k] = (unsigned char)(r->checksum >> (8 * k));
    }
    uint64_t total_sum = sums ? wstask_xxh64(sums, n * 8, 0) : 0;
    free(sums);
    if (st->format == FORMAT_JSON)
        wstask_textout_printf(t,
                          "],\n\"total\": {\"files\": %zu, \"bytes\": %" PRIu64
                          ", \"xxh64\": \"%016" PRIx64 "\"}}\n",
                          n, total_bytes, total_sum);
    *total_bytes_out = total_bytes;
    *total_sum_out = total_sum;
}

static int read_finish(void *state, int run_status, ws_ctx *ctx)
{
    read_state *st = (read_state *)state;
    if (run_status != 0) {
        if (st->verify) {
            size_t differ = 0;
            for (size_t i = 0; i < st->input.n; i++)
                differ += st->results[i].mismatch;
            if (differ)
                ws_log(ctx, "verify: %zu file(s) differ from the noise plugin's pixels for seed "
                            "%" PRIu64 "; no manifest written",
                       differ, st->seed);
        }
        if (st->direct_fd < 0)
            ws_outfile_abort(&st->out);
        read_state_free(st);
        return WS_OK;
    }

    /* Indices skipped by this process (--shard) would leave rows of
     * zeros: a manifest must have every file or not exist. */
    size_t ran = 0;
    for (size_t i = 0; i < st->input.n; i++)
        ran += st->results[i].done;
    if (ran != st->input.n) {
        if (st->direct_fd < 0)
            ws_outfile_abort(&st->out);
        size_t n = st->input.n;
        read_state_free(st);
        return ws_fail(ctx, "only %zu of %zu files were read in this process (--shard?); the "
                            "manifest needs all of them, so none was written",
                       ran, n);
    }

    wstask_textout *t = malloc(sizeof *t);
    if (!t) {
        if (st->direct_fd < 0)
            ws_outfile_abort(&st->out);
        read_state_free(st);
        return ws_fail(ctx, "out of memory for the manifest buffer");
    }
    if (st->direct_fd == 1)
        fflush(stdout); /* anything stdio holds goes first */
    t->fd = st->direct_fd >= 0 ? st->direct_fd : st->out.fd;
    t->err = 0;
    t->len = 0;
    t->escape_controls = isatty(t->fd);
    uint64_t total_bytes, total_sum;
    read_emit(st, t, &total_bytes, &total_sum);
    wstask_textout_flush(t);
    int err = t->err;
    free(t);

    int rc = WS_OK;
    if (st->direct_fd >= 0) {
        if (err)
            rc = ws_fail(ctx, "cannot write the manifest to %s: %s", st->direct_name,
                         strerror(err));
    } else if (err) {
        rc = ws_fail(ctx, "cannot write %s: %s", st->out.final_path, strerror(err));
        ws_outfile_abort(&st->out);
    } else {
        rc = ws_outfile_commit(ctx, &st->out);
    }
    /* The same words and numbers as bench/peers/read_serial.c prints. */
    if (rc == WS_OK)
        ws_log(ctx, "manifest total: %zu files, %" PRIu64 " bytes, xxh64 %016" PRIx64,
               st->input.n, total_bytes, total_sum);
    if (rc == WS_OK && st->verify)
        ws_log(ctx, "verify: all %zu file(s) match the noise plugin's pixels for seed %" PRIu64,
               st->input.n, st->seed);
    read_state_free(st);
    return rc;
}

static const ws_plugin read_plugin = {
    /* run_one's results go to ws_shared_alloc memory: isolatable. */
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_ISOLATABLE),
    .name = "read",
    .version = "1.1", /* 1.1: inputs named as images are images; CSV/TSV without a total row */
    .description = "read (decode) every input file in parallel; print a manifest in index order",
    .options = read_options,
    .init = read_init,
    .run_one = read_run_one,
    .finish = read_finish,
    .worker_init = read_worker_init,
    .worker_fini = read_worker_fini,
};

WS_PLUGIN_DEFINE(read_plugin)

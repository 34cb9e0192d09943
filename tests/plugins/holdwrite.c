/*
 * holdwrite.c - test fixture: a resumable plugin whose indices at or above
 * a chosen one stop half-way through their file until the test lets them
 * go, so a test can SIGKILL a journaled run at a point it chose instead of
 * racing it (failures::sigkill_then_resume_...).  Index i writes
 * PREFIX<i>.dat, FILE_BYTES bytes from ws_rng_for(ctx, i), with
 * ws_outfile: the same bytes in every run with the same --seed.  Options:
 *   prefix=TEXT    file name prefix (default "data_")
 *   hold_from=I    indices >= I hold (default -1: none)
 *   hold_file=PATH an index that holds writes half its file, then waits
 *                  while PATH exists (or until the run stops); with no
 *                  such file it does not wait.
 *   started_file=PATH  an index about to wait creates PATH first, so a
 *                  test learns that an index is holding (wsrun.run's
 *                  Ctrl-C test, tests/python/test_plugins.py).
 * Must never wait on a clock: the wait ends on an event (the file gone,
 * ws_stopping), however long that takes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wsrun.h"

typedef struct holdwrite_state {
    char *prefix, *hold_file, *started_file;
    int64_t hold_from;
} holdwrite_state;

static const ws_option holdwrite_options[] = {
    {.name = "prefix", .type = WS_OPT_STRING, .default_value = "data_",
     .help = "file name prefix"},
    {.name = "hold_from", .type = WS_OPT_INT, .default_value = "-1", .min = -1, .max = 1e18,
     .help = "indices from this one hold (-1: none)"},
    {.name = "hold_file", .type = WS_OPT_STRING,
     .help = "holding indices wait while this file exists"},
    {.name = "started_file", .type = WS_OPT_STRING,
     .help = "a holding index creates this file before it waits"},
    {.name = NULL},
};

static int holdwrite_init(ws_ctx *ctx, void **state)
{
    holdwrite_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    const char *hold_file = ws_opt_str(ctx, "hold_file");
    s->prefix = strdup(ws_opt_str(ctx, "prefix"));
    s->hold_file = hold_file ? strdup(hold_file) : NULL;
    s->hold_from = ws_opt_int(ctx, "hold_from");
    const char *started_file = ws_opt_str(ctx, "started_file");
    s->started_file = started_file ? strdup(started_file) : NULL;
    if (!s->prefix || (hold_file && !s->hold_file) || (started_file && !s->started_file)) {
        free(s->prefix);
        free(s->hold_file);
        free(s->started_file);
        free(s);
        return ws_fail(ctx, "out of memory");
    }
    *state = s;
    return WS_OK;
}

enum { FILE_BYTES = 4096 };

static void wait_while_held(const holdwrite_state *s, ws_ctx *ctx)
{
    if (!s->hold_file)
        return;
    if (s->started_file) {
        int fd = open(s->started_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
    }
    struct timespec nap = {0, 1000000}; /* a polling interval, not a deadline */
    while (access(s->hold_file, F_OK) == 0 && !ws_stopping(ctx))
        nanosleep(&nap, NULL);
}

static int write_half(ws_ctx *ctx, ws_outfile *out, const unsigned char *p)
{
    size_t half = FILE_BYTES / 2;
    if (write(out->fd, p, half) == (ssize_t)half)
        return WS_OK;
    ws_outfile_abort(out);
    return ws_fail(ctx, "cannot write %s", out->final_path);
}

static int holdwrite_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    holdwrite_state *s = state;
    unsigned char data[FILE_BYTES];
    ws_rng rng = ws_rng_for(ctx, index);
    ws_rng_fill(&rng, data, sizeof data);
    char path[4096];
    snprintf(path, sizeof path, "%s%llu.dat", s->prefix, (unsigned long long)index);
    ws_outfile out;
    if (ws_outfile_open(ctx, &out, path) != WS_OK)
        return WS_ERR;
    if (write_half(ctx, &out, data) != WS_OK)
        return WS_ERR;
    if (s->hold_from >= 0 && index >= (uint64_t)s->hold_from)
        wait_while_held(s, ctx);
    if (write_half(ctx, &out, data + FILE_BYTES / 2) != WS_OK)
        return WS_ERR;
    return ws_outfile_commit(ctx, &out);
}

static int holdwrite_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)run_status;
    (void)ctx;
    holdwrite_state *s = state;
    free(s->prefix);
    free(s->hold_file);
    free(s->started_file);
    free(s);
    return WS_OK;
}

static const ws_plugin holdwrite = {
    WS_PLUGIN_HEADER_FLAGS(WS_PLUGIN_RESUMABLE),
    .name = "holdwrite",
    .version = "0.1",
    .description = "test fixture: journaled files whose upper indices wait for a file to go",
    .options = holdwrite_options,
    .init = holdwrite_init,
    .run_one = holdwrite_run_one,
    .finish = holdwrite_finish,
};

WS_PLUGIN_DEFINE(holdwrite)

/*
 * initabort.c - test fixture: a valid descriptor whose init, run_one and
 * finish abort the process.  `wsrun --list-plugins` must list it (it reads
 * descriptors only); anything that calls a callback dies.
 */
#include <stdlib.h>

#include "wsrun.h"

static int initabort_init(ws_ctx *ctx, void **state)
{
    (void)ctx;
    (void)state;
    abort();
}

static int initabort_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    (void)ctx;
    abort();
}

static int initabort_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)state;
    (void)run_status;
    (void)ctx;
    abort();
}

static const ws_plugin initabort_plugin = {
    WS_PLUGIN_HEADER,
    .name = "initabort",
    .version = "0.3",
    .description = "test fixture: every callback aborts",
    .init = initabort_init,
    .run_one = initabort_run_one,
    .finish = initabort_finish,
};

WS_PLUGIN_DEFINE(initabort_plugin)

/*
 * forkmisuse.c - test fixture: fork-join used where it cannot work, so the
 * runtime's refusal (a message, then abort) can be checked end to end.
 *   where=init   spawns a child from init (main thread, no frame stack)
 *   where=deep   spawns without ever syncing until the frame stack is full
 * Never used as an example.
 */
#include <string.h>

#include "wsrun.h"

static const ws_option forkmisuse_options[] = {
    {"where", WS_OPT_STRING, "deep", "init or deep", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int leaf(ws_ctx *ctx, ws_frame *self)
{
    (void)ctx;
    (void)self;
    return WS_OK;
}

static int forkmisuse_init(ws_ctx *ctx, void **state)
{
    *state = NULL;
    if (strcmp(ws_opt_str(ctx, "where"), "init") == 0) {
        ws_frame *f = ws_frame_new(ctx, leaf);
        ws_spawn(ctx, f); /* refused: does not return */
    }
    return WS_OK;
}

static int forkmisuse_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    ws_frame *top = ws_frame_top(ctx);
    for (size_t i = 0;; i++) /* refused at the stack's end: does not return */
        ws_spawn_at(ctx, ws_frame_at(ctx, top + i, leaf));
    return WS_OK;
}

static const ws_plugin forkmisuse_plugin = {
    WS_PLUGIN_HEADER,
    .name = "forkmisuse",
    .version = "0.1",
    .description = "test fixture: fork-join from init, or nested past the frame stack",
    .options = forkmisuse_options,
    .init = forkmisuse_init,
    .run_one = forkmisuse_run_one,
};

WS_PLUGIN_DEFINE(forkmisuse_plugin)

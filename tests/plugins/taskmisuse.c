/*
 * taskmisuse.c - test fixture: the typed task macros of wsrun.h built with
 * -DWS_DEBUG_FORKJOIN, used rightly and in each wrong way the types cannot
 * rule out, so tests/cli/typed-tasks.sh can check each report (a line
 * naming the task, then abort).  Option mode=
 *   ok        a correct tree sum of depth `depth` (default 12): prints
 *             "taskmisuse: sum = N" (N = 2^depth)
 *   order     awaits a task other than the last one spawned
 *   extra     awaits with no spawn left
 *   unsynced  returns with a spawn not awaited
 * Never used as an example.
 */
#define WS_DEBUG_FORKJOIN 1
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"

typedef struct misuse_state {
    int mode;
    int64_t depth, result;
} misuse_state;

enum { MODE_OK, MODE_ORDER, MODE_EXTRA, MODE_UNSYNCED };

static const ws_option misuse_options[] = {
    {"mode", WS_OPT_ENUM, "ok", "which use", "ok|order|extra|unsynced", 0, 0},
    {"depth", WS_OPT_INT, "12", "tree depth (mode=ok)", NULL, 0, 30},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

WS_TASK_1(int64_t, leaves, int64_t, depth)
{
    if (depth == 0)
        return 1;
    WS_SPAWN(leaves, depth - 1);
    WS_SPAWN(leaves, depth - 1);
    int64_t right = WS_AWAIT(leaves);
    return right + WS_AWAIT(leaves);
}

WS_TASK_1(int64_t, other, int64_t, x)
{
    return x;
}

WS_TASK_1(int64_t, wrong_order, int64_t, x)
{
    WS_SPAWN(leaves, x);
    WS_SPAWN(other, x);
    int64_t a = WS_AWAIT(leaves); /* the last spawn is `other` */
    return a + WS_AWAIT(other);
}

WS_TASK_1(int64_t, extra_await, int64_t, x)
{
    WS_SPAWN(other, x);
    int64_t a = WS_AWAIT(other);
    return a + WS_AWAIT(other);
}

WS_VOID_TASK_1(never_synced, int64_t, x)
{
    WS_SPAWN(other, x);
}

static int misuse_init(ws_ctx *ctx, void **state)
{
    misuse_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->mode = ws_opt_enum(ctx, "mode");
    st->depth = ws_opt_int(ctx, "depth");
    ws_set_count(ctx, 1);
    *state = st;
    return WS_OK;
}

static int misuse_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    misuse_state *st = state;
    (void)index;
    switch (st->mode) {
    case MODE_ORDER:
        st->result = WS_RUN(ctx, wrong_order, 3);
        break;
    case MODE_EXTRA:
        st->result = WS_RUN(ctx, extra_await, 3);
        break;
    case MODE_UNSYNCED:
        WS_RUN(ctx, never_synced, 3);
        break;
    default:
        st->result = WS_RUN(ctx, leaves, st->depth);
    }
    return WS_OK;
}

static int misuse_finish(void *state, int run_status, ws_ctx *ctx)
{
    misuse_state *st = state;
    (void)ctx;
    if (run_status == 0)
        printf("taskmisuse: sum = %lld\n", (long long)st->result);
    free(st);
    return WS_OK;
}

static const ws_plugin misuse_plugin = {
    WS_PLUGIN_HEADER,
    .name = "taskmisuse",
    .version = "1.0",
    .description = "typed tasks, used rightly and wrongly (debug build)",
    .options = misuse_options,
    .init = misuse_init,
    .run_one = misuse_run_one,
    .finish = misuse_finish,
};

WS_PLUGIN_DEFINE(misuse_plugin)

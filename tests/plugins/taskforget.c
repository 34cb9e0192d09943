/*
 * taskforget.c - test fixture: typed tasks built the normal way (no
 * -DWS_DEBUG_FORKJOIN) against the ABI 1.4 header, one of them with a
 * forgotten WS_AWAIT deep in its recursion (issue 23 item 9), so
 * tests/cli/typed-tasks.sh can check it is named at every -j.  Option
 * mode=ok (default): fib(depth) by a correct task, printed as
 * "taskforget: fib = N"; mode=forget: the same recursion, whose call at
 * n == 5 returns without awaiting its spawn.  Never used as an example.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"

typedef struct forget_state {
    int forget;
    int64_t depth, result;
} forget_state;

static const ws_option forget_options[] = {
    {"mode", WS_OPT_ENUM, "ok", "ok or forget", "ok|forget", 0, 0},
    {"depth", WS_OPT_INT, "20", "fib's argument", NULL, 6, 40},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

WS_TASK_1(int64_t, fib, int64_t, n)
{
    if (n < 2)
        return n;
    WS_SPAWN(fib, n - 2);
    int64_t a = WS_CALL(fib, n - 1);
    return a + WS_AWAIT(fib);
}

WS_TASK_1(int64_t, forgetful, int64_t, n)
{
    if (n < 2)
        return n;
    WS_SPAWN(forgetful, n - 2);
    int64_t a = WS_CALL(forgetful, n - 1);
    if (n == 5)
        return a; /* the bug: no WS_AWAIT(forgetful) */
    return a + WS_AWAIT(forgetful);
}

static int forget_init(ws_ctx *ctx, void **state)
{
    forget_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->forget = ws_opt_enum(ctx, "mode") == 1;
    st->depth = ws_opt_int(ctx, "depth");
    ws_set_count(ctx, 1);
    *state = st;
    return WS_OK;
}

static int forget_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    forget_state *st = state;
    (void)index;
    st->result = st->forget ? WS_RUN(ctx, forgetful, st->depth) : WS_RUN(ctx, fib, st->depth);
    return WS_OK;
}

static int forget_finish(void *state, int run_status, ws_ctx *ctx)
{
    forget_state *st = state;
    (void)ctx;
    if (run_status == 0)
        printf("taskforget: fib = %lld\n", (long long)st->result);
    free(st);
    return WS_OK;
}

static const ws_plugin forget_plugin = {
    WS_PLUGIN_HEADER,
    .name = "taskforget",
    .version = "1.0",
    .description = "typed tasks, one with a forgotten WS_AWAIT",
    .options = forget_options,
    .init = forget_init,
    .run_one = forget_run_one,
    .finish = forget_finish,
};

WS_PLUGIN_DEFINE(forget_plugin)

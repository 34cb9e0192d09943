/*
 * taskforget.c - test fixture: typed tasks built the normal way (no
 * -DWS_DEBUG_FORKJOIN) against the ABI 1.4 header, one of them with a
 * forgotten WS_AWAIT deep in its recursion (issue 23 item 9), so
 * tests/cli/typed-tasks.sh can check it is named at every -j.  Option
 * mode=ok (default): fib(depth) by a correct task, printed as
 * "taskforget: fib = N"; mode=forget: the same recursion, whose call at
 * n == 5 returns without awaiting its spawn; mode=loop: a void task that
 * spawns its children in a loop and awaits them in another (nqueens'
 * shape), one await short at n == 5.  Never used as an example.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"

typedef struct forget_state {
    int mode; /* 0 ok, 1 forget, 2 loop */
    int64_t depth, result;
} forget_state;

static const ws_option forget_options[] = {
    {"mode", WS_OPT_ENUM, "ok", "ok, forget or loop", "ok|forget|loop", 0, 0},
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

/* Counts the calls of a tree with children n-1, n-2 and n-3 into *sum,
 * spawning the last two in a loop; at n == 5 the await loop runs once too
 * few (only the report is checked, not the count). */
WS_VOID_TASK_2(loopy, int64_t, n, int64_t *, sum)
{
    __atomic_fetch_add(sum, 1, __ATOMIC_RELAXED);
    if (n < 3)
        return;
    int spawned = 0;
    for (int64_t k = 2; k <= 3; k++, spawned++)
        WS_SPAWN(loopy, n - k, sum);
    WS_CALL(loopy, n - 1, sum);
    if (n == 5)
        spawned--;
    while (spawned-- > 0)
        WS_AWAIT(loopy);
}

static int forget_init(ws_ctx *ctx, void **state)
{
    forget_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->mode = (int)ws_opt_enum(ctx, "mode");
    st->depth = ws_opt_int(ctx, "depth");
    ws_set_count(ctx, 1);
    *state = st;
    return WS_OK;
}

static int forget_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    forget_state *st = state;
    (void)index;
    if (st->mode == 2)
        WS_RUN(ctx, loopy, st->depth, &st->result);
    else
        st->result = st->mode ? WS_RUN(ctx, forgetful, st->depth) : WS_RUN(ctx, fib, st->depth);
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

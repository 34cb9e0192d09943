/*
 * abi13.c - test fixture: a plugin written with the typed-task macros of
 * ABI 1.3 (WS_TASK_k / WS_VOID_TASK_k / WS_SPAWN / WS_AWAIT / WS_CALL /
 * WS_RUN), compiled against the frozen header tests/abi/wsrun-1.3.h as one
 * built before ABI 1.4 was, so tests/cli/run-all.sh can check that today's
 * wsrun still runs it with the same results at any -j.  Options:
 *   n=N        fib(N) (default 20), printed as "fib(N) = V" by finish
 *   mode=M     "fib": a valued task (default); "tree": a void task with
 *              two arguments that adds fib's leaves into the caller's
 *              local through a pointer (printed the same way)
 * Never used as an example: new plugins use include/wsrun.h.
 */
#include "../abi/wsrun-1.3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct abi13_state {
    int64_t n, result;
    int tree;
} abi13_state;

static const ws_option abi13_options[] = {
    {"n", WS_OPT_INT, "20", "compute fib(n)", NULL, 0, 40},
    {"mode", WS_OPT_ENUM, "fib", "valued task or void task", "fib|tree", 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

WS_TASK_1(int64_t, fib, int64_t, n)
{
    if (n < 2)
        return n;
    WS_SPAWN(fib, n - 2);
    int64_t first = WS_CALL(fib, n - 1);
    return first + WS_AWAIT(fib);
}

/* Each call owns `sum` until it returns; its children add into their own
 * locals, which are summed after the await (no shared writes). */
WS_VOID_TASK_2(leaves, int64_t, n, int64_t *, sum)
{
    if (n < 2) {
        *sum = n;
        return;
    }
    int64_t a = 0, b = 0;
    WS_SPAWN(leaves, n - 2, &b);
    WS_CALL(leaves, n - 1, &a);
    WS_AWAIT(leaves);
    *sum = a + b;
}

static int abi13_init(ws_ctx *ctx, void **state)
{
    abi13_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->n = ws_opt_int(ctx, "n");
    st->tree = ws_opt_enum(ctx, "mode") == 1;
    ws_set_count(ctx, 1);
    *state = st;
    return WS_OK;
}

static int abi13_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    abi13_state *st = state;
    (void)index;
    if (st->tree)
        WS_RUN(ctx, leaves, st->n, &st->result);
    else
        st->result = WS_RUN(ctx, fib, st->n);
    return WS_OK;
}

static int abi13_finish(void *state, int run_status, ws_ctx *ctx)
{
    abi13_state *st = state;
    (void)ctx;
    if (run_status == 0)
        printf("fib(%lld) = %lld\n", (long long)st->n, (long long)st->result);
    free(st);
    return WS_OK;
}

static const ws_plugin abi13_plugin = {
    WS_PLUGIN_HEADER,
    .name = "abi13",
    .version = "1.0",
    .description = "typed tasks built against the frozen ABI 1.3 header",
    .options = abi13_options,
    .init = abi13_init,
    .run_one = abi13_run_one,
    .finish = abi13_finish,
};

WS_PLUGIN_DEFINE(abi13_plugin)

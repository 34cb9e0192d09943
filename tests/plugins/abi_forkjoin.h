/*
 * abi_forkjoin.h - the body of the test fixtures abi11.c and abi12.c:
 * fib by fork-join with the _at calls of ABI 1.1 and with the plain calls,
 * compiled against a frozen header (tests/abi/wsrun-1.X.h, included first
 * by the .c file, which also defines ABI_PLUGIN_NAME), so the tests check
 * that today's wsrun runs plugins built for 1.1 and 1.2.  Options:
 *   n=N        fib(N) (default 20), printed as "fib(N) = V" by finish
 *   mode=M     "at": ws_frame_at / ws_spawn_at / ws_pop_at / ws_join_at
 *              (default); "plain": ws_frame_new / ws_spawn / ws_sync
 * Never used as an example.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct abi_state {
    int64_t n, result;
    int plain;
} abi_state;

static const ws_option abi_options[] = {
    {"n", WS_OPT_INT, "20", "compute fib(n)", NULL, 0, 40},
    {"mode", WS_OPT_STRING, "at", "at or plain", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int fib_at_task(ws_ctx *ctx, ws_frame *self);

static inline int64_t fib_at(ws_ctx *ctx, ws_frame *top, int64_t n)
{
    if (n < 2)
        return n;
    ws_frame *child = ws_frame_at(ctx, top, fib_at_task);
    child->arg[0].i = n - 2;
    ws_spawn_at(ctx, child);
    int64_t first = fib_at(ctx, top + 1, n - 1);
    if (ws_pop_at(ctx, child))
        return first + fib_at(ctx, top, n - 2);
    ws_join_at(ctx, child);
    return first + child->ret.i;
}

static int fib_at_task(ws_ctx *ctx, ws_frame *self)
{
    self->ret.i = fib_at(ctx, self + 1, self->arg[0].i);
    return WS_OK;
}

static int fib_plain_task(ws_ctx *ctx, ws_frame *self)
{
    int64_t n = self->arg[0].i;
    if (n < 2) {
        self->ret.i = n;
        return WS_OK;
    }
    ws_frame *a = ws_frame_new(ctx, fib_plain_task);
    a->arg[0].i = n - 1;
    ws_spawn(ctx, a);
    ws_frame *b = ws_frame_new(ctx, fib_plain_task);
    b->arg[0].i = n - 2;
    ws_spawn(ctx, b);
    int rc = ws_sync(ctx, b);
    int64_t vb = b->ret.i;
    if (ws_sync(ctx, a) != WS_OK || rc != WS_OK)
        return ws_fail(ctx, "a child failed");
    self->ret.i = a->ret.i + vb;
    return WS_OK;
}

static int abi_init(ws_ctx *ctx, void **state)
{
    abi_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->n = ws_opt_int(ctx, "n");
    const char *mode = ws_opt_str(ctx, "mode");
    if (strcmp(mode, "at") != 0 && strcmp(mode, "plain") != 0) {
        free(st);
        return ws_fail(ctx, "mode must be at or plain, not '%s'", mode);
    }
    st->plain = strcmp(mode, "plain") == 0;
    ws_set_count(ctx, 1);
    *state = st;
    return WS_OK;
}

static int abi_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    abi_state *st = state;
    (void)index;
    if (st->plain) {
        ws_frame *f = ws_frame_new(ctx, fib_plain_task);
        f->arg[0].i = st->n;
        ws_spawn(ctx, f);
        int rc = ws_sync(ctx, f);
        st->result = f->ret.i;
        return rc;
    }
    st->result = fib_at(ctx, ws_frame_top(ctx), st->n);
    return WS_OK;
}

static int abi_finish(void *state, int run_status, ws_ctx *ctx)
{
    abi_state *st = state;
    (void)ctx;
    if (run_status == 0)
        printf("fib(%lld) = %lld\n", (long long)st->n, (long long)st->result);
    free(st);
    return WS_OK;
}

static const ws_plugin abi_plugin = {
    WS_PLUGIN_HEADER,
    .name = ABI_PLUGIN_NAME,
    .version = "1.0",
    .description = "fork-join built against a frozen ABI header",
    .options = abi_options,
    .init = abi_init,
    .run_one = abi_run_one,
    .finish = abi_finish,
};

WS_PLUGIN_DEFINE(abi_plugin)

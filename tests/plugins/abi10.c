/*
 * abi10.c - test fixture: a fork-join plugin compiled against the frozen
 * ABI 1.0 header (tests/abi/wsrun-1.0.h), as a plugin built before ABI 1.1
 * was.  Its inline fork-join code keeps ctx's top up to date, polls the
 * attention word and calls ws__attend / ws__sync_slow, which today's
 * runtime must still serve.  Options:
 *   n=N        fib(N) (default 20), printed as "fib(N) = V" by finish
 *   mode=M     "top": ws_frame_at / ws_spawn / ws_pop / ws_join (default);
 *              "implicit": ws_frame_new / ws_spawn / ws_sync, with a
 *              ws_poll at every call
 * Never used as an example: new plugins use include/wsrun.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../abi/wsrun-1.0.h"

typedef struct abi10_state {
    int64_t n, result;
    int implicit;
} abi10_state;

static const ws_option abi10_options[] = {
    {"n", WS_OPT_INT, "20", "compute fib(n)", NULL, 0, 40},
    {"mode", WS_OPT_STRING, "top", "top or implicit", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int fib_top_task(ws_ctx *ctx, ws_frame *self);
static int fib_implicit_task(ws_ctx *ctx, ws_frame *self);

static int64_t fib_top(ws_ctx *ctx, ws_frame *top, int64_t n)
{
    if (n < 2)
        return n;
    ws_frame *f = ws_frame_at(ctx, top, fib_top_task);
    f->arg[0].i = n - 1;
    ws_spawn(ctx, f);
    int64_t b = fib_top(ctx, top + 1, n - 2);
    if (ws_pop(ctx, f))
        return fib_top(ctx, top, n - 1) + b;
    if (ws_join(ctx, f) != WS_OK)
        return -1;
    return f->ret.i + b;
}

static int fib_top_task(ws_ctx *ctx, ws_frame *self)
{
    self->ret.i = fib_top(ctx, self + 1, self->arg[0].i);
    return WS_OK;
}

static int fib_implicit_task(ws_ctx *ctx, ws_frame *self)
{
    int64_t n = self->arg[0].i;
    ws_poll(ctx);
    if (n < 2) {
        self->ret.i = n;
        return WS_OK;
    }
    ws_frame *a = ws_frame_new(ctx, fib_implicit_task);
    a->arg[0].i = n - 1;
    ws_spawn(ctx, a);
    ws_frame *b = ws_frame_new(ctx, fib_implicit_task);
    b->arg[0].i = n - 2;
    ws_spawn(ctx, b);
    int rc = ws_sync(ctx, b);
    int64_t vb = b->ret.i;
    if (ws_sync(ctx, a) != WS_OK || rc != WS_OK)
        return ws_fail(ctx, "a child failed");
    self->ret.i = a->ret.i + vb;
    return WS_OK;
}

static int abi10_init(ws_ctx *ctx, void **state)
{
    abi10_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->n = ws_opt_int(ctx, "n");
    const char *mode = ws_opt_str(ctx, "mode");
    if (strcmp(mode, "top") != 0 && strcmp(mode, "implicit") != 0) {
        free(st);
        return ws_fail(ctx, "mode must be top or implicit, not '%s'", mode);
    }
    st->implicit = strcmp(mode, "implicit") == 0;
    ws_set_count(ctx, 1);
    *state = st;
    return WS_OK;
}

static int abi10_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    abi10_state *st = state;
    (void)index;
    if (st->implicit) {
        ws_frame *f = ws_frame_new(ctx, fib_implicit_task);
        f->arg[0].i = st->n;
        ws_spawn(ctx, f);
        int rc = ws_sync(ctx, f);
        st->result = f->ret.i;
        return rc;
    }
    st->result = fib_top(ctx, ws_frame_top(ctx), st->n);
    return st->result < 0 ? ws_fail(ctx, "a child failed") : WS_OK;
}

static int abi10_finish(void *state, int run_status, ws_ctx *ctx)
{
    abi10_state *st = state;
    (void)ctx;
    if (run_status == 0)
        printf("fib(%lld) = %lld\n", (long long)st->n, (long long)st->result);
    free(st);
    return WS_OK;
}

static const ws_plugin abi10_plugin = {
    WS_PLUGIN_HEADER,
    .name = "abi10",
    .version = "1.0",
    .description = "fork-join built against the ABI 1.0 header",
    .options = abi10_options,
    .init = abi10_init,
    .run_one = abi10_run_one,
    .finish = abi10_finish,
};

WS_PLUGIN_DEFINE(abi10_plugin)

/*
 * forkmisuse.c - test fixture: fork-join used where it cannot work, so the
 * runtime's refusal (a message, then abort) can be checked end to end.
 *   where=init   spawns a child from init (main thread, no frame stack)
 *   where=deep   spawns without ever syncing until the frame stack is full
 *   where=unsynced      run_one at index 5 spawns (ws_spawn) and returns
 *                       without syncing
 *   where=unsynced_at   the same with ws_spawn_at (caught only in a plugin
 *                       built with WS_CHECK_SPAWNS, as unsyncedat.c is)
 *   where=unsynced_at_asked   as unsynced_at, but index 5 first waits
 *                       until a thief asks for work (run it at -j2), so
 *                       the frame is published: caught in any build
 *   where=fib    correct use: fib(18) with the _at calls in every index,
 *                checked against a plain loop (the checking build must
 *                not change a correct plugin's results)
 * Never used as an example.
 */
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "wsrun.h"

#ifndef FORKMISUSE_NAME
#define FORKMISUSE_NAME "forkmisuse"
#endif

static const ws_option forkmisuse_options[] = {
    {"where", WS_OPT_STRING, "deep", "init, deep, unsynced, unsynced_at, unsynced_at_asked or fib",
     NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int leaf(ws_ctx *ctx, ws_frame *self)
{
    (void)ctx;
    (void)self;
    return WS_OK;
}

/* fib(arg0) into ret, children spawned with the _at calls; the one
 * synced first is taken back with ws_pop_at when nobody stole it. */
static int fib_task(ws_ctx *ctx, ws_frame *self)
{
    uint64_t n = self->arg[0].u;
    if (n < 2) {
        self->ret.u = n;
        return WS_OK;
    }
    ws_frame *a = ws_frame_at(ctx, self + 1, fib_task);
    a->arg[0].u = n - 1;
    ws_spawn_at(ctx, a);
    ws_frame *b = ws_frame_at(ctx, self + 2, fib_task);
    b->arg[0].u = n - 2;
    ws_spawn_at(ctx, b);
    int status = WS_SYNC(ctx, b, fib_task);
    uint64_t fb = b->ret.u;
    if (ws_pop_at(ctx, a)) {
        a->fn = NULL;
        status |= fib_task(ctx, a);
    } else {
        status |= ws_join_at(ctx, a);
    }
    self->ret.u = a->ret.u + fb;
    return status;
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
    const char *where = ws_opt_str(ctx, "where");
    if (strcmp(where, "unsynced") == 0) {
        if (index == 5)
            ws_spawn(ctx, ws_frame_new(ctx, leaf)); /* and never synced */
        return WS_OK;
    }
    if (strcmp(where, "unsynced_at_asked") == 0) {
        if (index == 5) {
            /* An event, not a delay: the other worker, out of work, asks
             * (ws_poll is not called, so nothing here answers it).  The
             * thief sets the request, then the spawn trigger: wait for
             * both, or the spawn below may not see the request yet. */
            while (!atomic_load_explicit(&ctx->attention, memory_order_relaxed) ||
                   atomic_load_explicit(&ctx->fj_trigger, memory_order_relaxed) != 0)
                sched_yield();
            ws_spawn_at(ctx, ws_frame_at(ctx, ws_frame_top(ctx), leaf));
        }
        return WS_OK;
    }
    if (strcmp(where, "unsynced_at") == 0) {
        if (index == 5)
            ws_spawn_at(ctx, ws_frame_at(ctx, ws_frame_top(ctx), leaf));
        return WS_OK;
    }
    if (strcmp(where, "fib") == 0) {
        ws_frame *f = ws_frame_at(ctx, ws_frame_top(ctx), fib_task);
        f->arg[0].u = 18;
        ws_spawn_at(ctx, f);
        int status = WS_SYNC(ctx, f, fib_task);
        uint64_t x = 0, y = 1;
        for (int k = 0; k < 18; k++) {
            uint64_t t = x + y;
            x = y;
            y = t;
        }
        if (status != WS_OK || f->ret.u != x)
            return ws_fail(ctx, "fib(18) = %llu, want %llu", (unsigned long long)f->ret.u,
                           (unsigned long long)x);
        return WS_OK;
    }
    ws_frame *top = ws_frame_top(ctx);
    for (size_t i = 0;; i++) /* refused at the stack's end: does not return */
        ws_spawn_at(ctx, ws_frame_at(ctx, top + i, leaf));
    return WS_OK;
}

static const ws_plugin forkmisuse_plugin = {
    WS_PLUGIN_HEADER,
    .name = FORKMISUSE_NAME,
    .version = "0.1",
    .description = "test fixture: fork-join from init, or nested past the frame stack",
    .options = forkmisuse_options,
    .init = forkmisuse_init,
    .run_one = forkmisuse_run_one,
};

WS_PLUGIN_DEFINE(forkmisuse_plugin)

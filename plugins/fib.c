/*
 * fib.c - benchmark plugin: Fibonacci by fork-join, one task per call.
 *
 *   wsrun --plugin fib -o n=35            prints "fib(35) = 9227465"
 *   wsrun --plugin fib -o n=35 -o cutoff=20 -o timing=on
 *
 * fib(n) spawns fib(n-1), computes fib(n-2) itself, and syncs: the classic
 * measure of what a spawn costs, since a call does almost nothing else.
 * Below `cutoff` it recurses serially (cutoff 0: every call n >= 2 spawns).
 * With timing=on it also prints the time from the end of init to the start
 * of finish and the number of spawns (counted by formula, so the hot path
 * carries no counter).  It must never do anything in the hot path that the
 * serial peer (bench/peers/fib_serial.c) does not do, besides the spawn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_timing.h"
#include "wsrun.h"

typedef struct fib_state {
    int64_t n, cutoff;
    int timing;
    int64_t result;
    bench_clock started;
} fib_state;

static const ws_option fib_options[] = {
    {"n", WS_OPT_INT, "35", "compute fib(n)", NULL, 0, 92},
    {"cutoff", WS_OPT_INT, "0", "below this n recurse serially (0: spawn at every call)", NULL, 0,
     92},
    {"timing", WS_OPT_BOOL, "off", "also print time_s, cpu_s and spawns on stdout", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int64_t fib_serial(int64_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

/* fib never fails, so its tasks always return WS_OK and the value travels
 * in ret; the parallel recursion returns the value, as the serial one does.
 * It uses the _at calls of wsrun.h: the recursion passes the top of the
 * frame stack down (self + 1 in a task) instead of keeping it in ctx, and
 * ws_pop_at takes an unstolen child back so fib(n-2) becomes a direct call,
 * as in the serial code.  The spawned child is fib(n-2) and fib(n-1) is
 * called first, the serial code's order, and fib_par is static inline so
 * gcc inlines the recursion a few levels deep as it does for fib_serial
 * (each inlined level still spawns).  Two copies, so the hot path without
 * a cutoff carries no cutoff test. */
static int fib_task(ws_ctx *ctx, ws_frame *self);
static int fib_task_cut(ws_ctx *ctx, ws_frame *self);

static inline int64_t fib_par(ws_ctx *ctx, ws_frame *top, int64_t n)
{
    if (n < 2)
        return n;
    ws_frame *child = ws_frame_at(ctx, top, fib_task);
    child->arg[0].i = n - 2;
    ws_spawn_at(ctx, child);
    int64_t first = fib_par(ctx, top + 1, n - 1);
    if (ws_pop_at(ctx, child))
        return first + fib_par(ctx, top, n - 2);
    ws_join_at(ctx, child);
    return first + child->ret.i;
}

static int fib_task(ws_ctx *ctx, ws_frame *self)
{
    self->ret.i = fib_par(ctx, self + 1, self->arg[0].i);
    return WS_OK;
}

static inline int64_t fib_par_cut(ws_ctx *ctx, ws_frame *top, int64_t n, int64_t cutoff)
{
    if (n < cutoff)
        return fib_serial(n);
    if (n < 2)
        return n;
    ws_frame *child = ws_frame_at(ctx, top, fib_task_cut);
    child->arg[0].i = n - 2;
    child->arg[1].i = cutoff;
    ws_spawn_at(ctx, child);
    int64_t first = fib_par_cut(ctx, top + 1, n - 1, cutoff);
    if (ws_pop_at(ctx, child))
        return first + fib_par_cut(ctx, top, n - 2, cutoff);
    ws_join_at(ctx, child);
    return first + child->ret.i;
}

static int fib_task_cut(ws_ctx *ctx, ws_frame *self)
{
    self->ret.i = fib_par_cut(ctx, self + 1, self->arg[0].i, self->arg[1].i);
    return WS_OK;
}

/* Calls that spawn: every call with n >= max(2, cutoff). */
static uint64_t fib_spawns(int64_t n, int64_t cutoff)
{
    int64_t lo = cutoff > 2 ? cutoff : 2;
    /* spawns(k) = 1 + spawns(k-1) + spawns(k-2) for k >= lo, else 0 */
    uint64_t prev2 = 0, prev1 = 0; /* spawns(k-2), spawns(k-1) */
    for (int64_t k = lo; k <= n; k++) {
        uint64_t cur = 1 + prev1 + prev2;
        prev2 = prev1;
        prev1 = cur;
    }
    return n >= lo ? prev1 : 0;
}

static int fib_init(ws_ctx *ctx, void **state)
{
    fib_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->n = ws_opt_int(ctx, "n");
    st->cutoff = ws_opt_int(ctx, "cutoff");
    st->timing = ws_opt_bool(ctx, "timing");
    if (ws_count_given(ctx) && ws_run_count(ctx) != 1) {
        free(st);
        return ws_fail(ctx, "fib computes one value: --count must be 1 (or left out)");
    }
    ws_set_count(ctx, 1);
    *state = st;
    bench_clock_start(&st->started);
    return WS_OK;
}

static int fib_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    fib_state *st = state;
    (void)index;
    ws_frame *top = ws_frame_top(ctx);
    st->result = st->cutoff > 2 ? fib_par_cut(ctx, top, st->n, st->cutoff) : fib_par(ctx, top, st->n);
    return WS_OK;
}

static int fib_finish(void *state, int run_status, ws_ctx *ctx)
{
    fib_state *st = state;
    double wall_s, cpu_s;
    bench_clock_elapsed(&st->started, &wall_s, &cpu_s);
    (void)ctx;
    if (run_status == 0) {
        printf("fib(%lld) = %lld\n", (long long)st->n, (long long)st->result);
        if (st->timing) {
            bench_clock_print(wall_s, cpu_s);
            printf("spawns %llu\n", (unsigned long long)fib_spawns(st->n, st->cutoff));
        }
        fflush(stdout);
    }
    free(st);
    return WS_OK;
}

static const ws_plugin fib_plugin = {
    WS_PLUGIN_HEADER,
    .name = "fib",
    .version = "1.0",
    .description = "Fibonacci by fork-join, one task per call (spawn cost benchmark)",
    .options = fib_options,
    .init = fib_init,
    .run_one = fib_run_one,
    .finish = fib_finish,
};

WS_PLUGIN_DEFINE(fib_plugin)

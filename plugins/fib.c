/*
 * fib.c - benchmark plugin: Fibonacci by fork-join, one task per call.
 *
 *   wsrun --plugin fib -o n=35            prints "fib(35) = 9227465"
 *   wsrun --plugin fib -o n=35 -o cutoff=20 -o timing=on
 *   wsrun --plugin fib -o n=30 -o form=at -o timing=on   (or form=plain)
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

enum { FIB_MACRO, FIB_AT, FIB_PLAIN };

typedef struct fib_state {
    int64_t n, cutoff;
    int timing;
    int form; /* FIB_MACRO, FIB_AT or FIB_PLAIN */
    int64_t result;
    bench_clock started;
} fib_state;

static const ws_option fib_options[] = {
    {"n", WS_OPT_INT, "35", "compute fib(n)", NULL, 0, 92},
    {"cutoff", WS_OPT_INT, "0", "below this n recurse serially (0: spawn at every call)", NULL, 0,
     92},
    {"timing", WS_OPT_BOOL, "off", "also print time_s, cpu_s and spawns on stdout", NULL, 0, 0},
    {"form", WS_OPT_ENUM, "macro", "fork-join calls: typed macros, _at calls or plain calls",
     "macro|at|plain", 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int64_t fib_serial(int64_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

/* fib never fails, so its tasks return their value.  The default form
 * uses the typed task macros of wsrun.h (ABI 1.3): the spawned child is
 * fib(n-2) and fib(n-1) is called first, the serial code's order; the
 * macros pass the frame-stack top down in a register and WS_AWAIT makes an
 * unstolen child a direct call, as in the serial code.  The bodies are
 * static inline, so gcc inlines the recursion a few levels deep as it does
 * for fib_serial (each inlined level still spawns).  Two tasks, so the hot
 * path without a cutoff carries no cutoff test.  form=at and form=plain
 * compute the same with the hand-written _at calls and with the plain
 * calls (ws_frame_new / ws_spawn / WS_SYNC), to compare what a spawn costs
 * in each form (docs/benchmarks.md). */
WS_TASK_1(int64_t, fib, int64_t, n)
{
    if (n < 2)
        return n;
    WS_SPAWN(fib, n - 2);
    int64_t first = WS_CALL(fib, n - 1);
    return first + WS_AWAIT(fib);
}

WS_TASK_2(int64_t, fib_cut, int64_t, n, int64_t, cutoff)
{
    if (n < cutoff)
        return fib_serial(n);
    if (n < 2)
        return n;
    WS_SPAWN(fib_cut, n - 2, cutoff);
    int64_t first = WS_CALL(fib_cut, n - 1, cutoff);
    return first + WS_AWAIT(fib_cut);
}

/* form=at: the same recursion with the ABI 1.1 _at calls, by hand. */
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

/* form=plain: ws_frame_new / ws_spawn / WS_SYNC, ctx keeping the top. */
static int fib_plain_task(ws_ctx *ctx, ws_frame *self)
{
    int64_t n = self->arg[0].i;
    if (n < 2) {
        self->ret.i = n;
        return WS_OK;
    }
    ws_frame *child = ws_frame_new(ctx, fib_plain_task);
    child->arg[0].i = n - 2;
    ws_spawn(ctx, child);
    self->arg[0].i = n - 1;
    fib_plain_task(ctx, self);
    int64_t first = self->ret.i;
    WS_SYNC(ctx, child, fib_plain_task);
    self->ret.i = first + child->ret.i;
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
    st->form = ws_opt_enum(ctx, "form");
    if (st->form != FIB_MACRO && st->cutoff > 2) {
        free(st);
        return ws_fail(ctx, "cutoff is only for form=macro");
    }
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
    if (st->cutoff > 2) {
        st->result = WS_RUN(ctx, fib_cut, st->n, st->cutoff);
    } else if (st->form == FIB_AT) {
        st->result = fib_at(ctx, ws_frame_top(ctx), st->n);
    } else if (st->form == FIB_PLAIN) {
        ws_frame *f = ws_frame_new(ctx, fib_plain_task);
        f->arg[0].i = st->n;
        ws_spawn(ctx, f);
        WS_SYNC(ctx, f, fib_plain_task);
        st->result = f->ret.i;
    } else {
        st->result = WS_RUN(ctx, fib, st->n);
    }
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

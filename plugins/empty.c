/*
 * empty.c - benchmark plugin: run_one does nothing, so a run measures the
 * scheduler's own cost per index (bench/run.sh compares it with a plain C
 * loop calling this same run_one through a function pointer).
 *
 *   wsrun --plugin empty --count 100000000 -o timing=on
 *
 * run_one must never touch its arguments or call into wsrun: the plain
 * loop peer (bench/peers/empty_loop.c) calls it with no runtime loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_timing.h"
#include "wsrun.h"

#define EMPTY_DEFAULT_COUNT 100000000ULL

typedef struct empty_state {
    int timing;
    uint64_t count;
    bench_clock started;
} empty_state;

static const ws_option empty_options[] = {
    {"timing", WS_OPT_BOOL, "off", "also print time_s, cpu_s and ns_per_index on stdout", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static int empty_init(ws_ctx *ctx, void **state)
{
    empty_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->timing = ws_opt_bool(ctx, "timing");
    if (!ws_count_given(ctx))
        ws_set_count(ctx, EMPTY_DEFAULT_COUNT);
    st->count = ws_count_given(ctx) ? ws_run_count(ctx) : EMPTY_DEFAULT_COUNT;
    *state = st;
    bench_clock_start(&st->started);
    return WS_OK;
}

static int empty_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    (void)ctx;
    return WS_OK;
}

static int empty_finish(void *state, int run_status, ws_ctx *ctx)
{
    empty_state *st = state;
    double wall_s, cpu_s;
    bench_clock_elapsed(&st->started, &wall_s, &cpu_s);
    (void)ctx;
    if (run_status == 0) {
        printf("empty = %llu indices\n", (unsigned long long)st->count);
        if (st->timing) {
            bench_clock_print(wall_s, cpu_s);
            printf("ns_per_index %.3f\n", st->count ? 1e9 * wall_s / (double)st->count : 0.0);
        }
        fflush(stdout);
    }
    free(st);
    return WS_OK;
}

static const ws_plugin empty_plugin = {
    WS_PLUGIN_HEADER,
    .name = "empty",
    .version = "1.0",
    .description = "run_one does nothing: the scheduler's cost per index",
    .options = empty_options,
    .init = empty_init,
    .run_one = empty_run_one,
    .finish = empty_finish,
};

WS_PLUGIN_DEFINE(empty_plugin)

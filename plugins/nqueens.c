/*
 * nqueens.c - benchmark plugin: count the N-queens solutions by fork-join.
 *
 *   wsrun --plugin nqueens -o n=13        prints "nqueens(13) = 73712"
 *
 * A partial board is three bit masks (occupied columns and both diagonals,
 * shifted to the next row), so each child carries its own copy of the board
 * in its frame and nothing is shared.  Every safe column of a row is a
 * child task, the last one run by the parent itself; from row `cutoff` on
 * (0: never) the search is serial.  Must never share a board between tasks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_timing.h"
#include "wsrun.h"
#include "nqueens_serial.h"

typedef struct nq_state {
    int n;
    int cutoff;
    uint32_t all; /* n low bits set */
    int timing;
    uint64_t result;
    bench_clock started;
} nq_state;

static const ws_option nq_options[] = {
    {"n", WS_OPT_INT, "13", "board size", NULL, 1, 20},
    {"cutoff", WS_OPT_INT, "0", "search serially from this row on (0: spawn at every row)", NULL,
     0, 20},
    {"timing", WS_OPT_BOOL, "off", "also print time_s, cpu_s and spawns on stdout", NULL, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* A typed task (wsrun.h's WS_TASK_4): the board travels as the task's
 * arguments, the count comes back as its value.  Children are awaited in
 * the reverse order of their spawns, as WS_AWAIT always does. */
WS_TASK_4(uint64_t, nq_count, const nq_state *, st, uint32_t, cols, uint32_t, left, uint32_t,
          right)
{
    if (cols == st->all)
        return 1;
    if (st->cutoff > 0 && __builtin_popcount(cols) >= st->cutoff)
        return nq_serial(st->all, cols, left, right);
    uint32_t free_cols = st->all & ~(cols | left | right);
    if (!free_cols)
        return 0;
    int spawned = 0;
    uint32_t bit = free_cols & -free_cols;
    for (free_cols ^= bit; free_cols; free_cols ^= bit) {
        WS_SPAWN(nq_count, st, cols | bit, (left | bit) << 1, (right | bit) >> 1);
        spawned++;
        bit = free_cols & -free_cols;
    }
    uint64_t total = WS_CALL(nq_count, st, cols | bit, (left | bit) << 1, (right | bit) >> 1);
    while (spawned-- > 0)
        total += WS_AWAIT(nq_count);
    return total;
}

/* Spawned tasks, counted serially once (for ns per spawn): every safe
 * column but the last of every row searched in parallel. */
static uint64_t nq_spawns(const nq_state *st, uint32_t cols, uint32_t left, uint32_t right)
{
    if (cols == st->all || (st->cutoff > 0 && __builtin_popcount(cols) >= st->cutoff))
        return 0;
    uint32_t free_cols = st->all & ~(cols | left | right);
    uint64_t spawns = free_cols ? (uint64_t)__builtin_popcount(free_cols) - 1 : 0;
    while (free_cols) {
        uint32_t bit = free_cols & -free_cols;
        free_cols ^= bit;
        spawns += nq_spawns(st, cols | bit, (left | bit) << 1, (right | bit) >> 1);
    }
    return spawns;
}

static int nq_init(ws_ctx *ctx, void **state)
{
    nq_state *st = calloc(1, sizeof *st);
    if (!st)
        return ws_fail(ctx, "out of memory");
    st->n = (int)ws_opt_int(ctx, "n");
    st->cutoff = (int)ws_opt_int(ctx, "cutoff");
    st->timing = ws_opt_bool(ctx, "timing");
    st->all = (uint32_t)((1u << st->n) - 1);
    if (ws_count_given(ctx) && ws_run_count(ctx) != 1) {
        free(st);
        return ws_fail(ctx, "nqueens computes one value: --count must be 1 (or left out)");
    }
    ws_set_count(ctx, 1);
    *state = st;
    bench_clock_start(&st->started);
    return WS_OK;
}

static int nq_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    nq_state *st = state;
    (void)index;
    st->result = WS_RUN(ctx, nq_count, st, 0, 0, 0);
    return WS_OK;
}

static int nq_finish(void *state, int run_status, ws_ctx *ctx)
{
    nq_state *st = state;
    double wall_s, cpu_s;
    bench_clock_elapsed(&st->started, &wall_s, &cpu_s);
    (void)ctx;
    if (run_status == 0) {
        printf("nqueens(%d) = %llu\n", st->n, (unsigned long long)st->result);
        if (st->timing) {
            bench_clock_print(wall_s, cpu_s);
            printf("spawns %llu\n",
                   (unsigned long long)nq_spawns(st, 0, 0, 0));
        }
        fflush(stdout);
    }
    free(st);
    return WS_OK;
}

static const ws_plugin nq_plugin = {
    WS_PLUGIN_HEADER,
    .name = "nqueens",
    .version = "1.0",
    .description = "count N-queens solutions by fork-join over the columns of each row",
    .options = nq_options,
    .init = nq_init,
    .run_one = nq_run_one,
    .finish = nq_finish,
};

WS_PLUGIN_DEFINE(nq_plugin)

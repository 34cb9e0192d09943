/*
 * template.c - a starting point for your own wsrun plugin.  Copy this
 * folder, rename template.c and every "template" below to your plugin's
 * name (the descriptor's name must equal the file name: mytask ->
 * mytask.so), then fill in the three marked places.  Build it with the
 * Makefile beside it once wsrun is installed (`make install` puts the
 * header and wsrun.pc in place).  Run it:
 *
 *   wsrun --plugin ./template.so --help
 *   wsrun --plugin ./template.so --count 1000 -o scale=2
 *
 * As written it does a small real job so you can see every part work:
 * for each index i it adds scale * i to a total (worked out by a small
 * fork-join task, to show one), and prints the total at the end (the sum
 * of 0..N-1 times scale, easy to check by hand).
 *
 * Rules that keep a plugin correct (wsrun-plugin(7) has them all):
 * run_one runs on many threads at once, so anything it changes in the
 * shared state must be atomic or per index; never exit() or abort():
 * return ws_fail(ctx, ...) and wsrun reports the index; never print from
 * run_one (use ws_log, which respects --quiet); write files through
 * ws_outfile_* so a failed run leaves no half-written file.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"

/* (1) Your options: users set them with -o name=value, and
 * `wsrun --plugin template --help` prints this table.  wsrun checks the
 * type and range before init runs. */
static const ws_option template_options[] = {
    {.name = "scale", .type = WS_OPT_INT, .default_value = "1", .min = 1, .max = 1000000,
     .help = "multiply each index by this before adding it up"},
    {.name = NULL}, /* ends the table */
};

/* Everything run_one needs, made once by init and shared by all workers. */
typedef struct template_state {
    uint64_t scale;
    _Atomic uint64_t total; /* changed by every worker: atomic */
} template_state;

/* Main thread, once, before any run_one: read options, check them
 * together, allocate.  A failure here stops wsrun before any index runs. */
static int template_init(ws_ctx *ctx, void **state)
{
    template_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    s->scale = (uint64_t)ws_opt_int(ctx, "scale");
    atomic_init(&s->total, 0);
    /* Choose the number of indices when the user gave no --count: */
    ws_set_count(ctx, 100);
    *state = s;
    return WS_OK;
}

/* Optional: fork-join inside one index (docs/plugins.md, section 6).  A
 * typed task splits [lo, hi) in two, spawns one half (an idle worker may
 * steal it), does the other half itself and awaits the spawned one; the
 * value comes back from WS_AWAIT.  Here it adds `scale` once per number in
 * [lo, hi), so the result is scale * (hi - lo).  Delete it if an index is
 * small work. */
WS_TASK_3(uint64_t, template_range, uint64_t, lo, uint64_t, hi, uint64_t, scale)
{
    if (hi - lo <= 64) /* small enough: do it serially */
        return (hi - lo) * scale;
    uint64_t mid = lo + (hi - lo) / 2;
    WS_SPAWN(template_range, lo, mid, scale);                 /* a child task */
    uint64_t upper = WS_CALL(template_range, mid, hi, scale); /* here, now */
    return upper + WS_AWAIT(template_range);                  /* the child's value */
}

/* (2) Your work for one index.  Any worker thread, many at once, in no
 * particular order.  For random numbers use ws_rng_for(ctx, index): the
 * stream depends only on --seed and the index, never on the worker. */
static int template_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    template_state *s = state;
    /* ctx: for ws_fail, ws_log, ws_rng_for, options, and fork-join. */
    uint64_t part = WS_RUN(ctx, template_range, 0, index, s->scale); /* scale * index */
    /* relaxed: the total is only read after every worker stopped. */
    atomic_fetch_add_explicit(&s->total, part, memory_order_relaxed);
    return WS_OK;
}

/* (3) Main thread, once, after every worker stopped; also called when the
 * run failed (run_status != 0): then only clean up.  Results go to
 * stdout, so `wsrun ... > result.txt` keeps them apart from messages. */
static int template_finish(void *state, int run_status, ws_ctx *ctx)
{
    template_state *s = state;
    if (run_status == 0)
        printf("template: total %llu over %llu indices\n",
               (unsigned long long)atomic_load(&s->total),
               (unsigned long long)ws_run_count(ctx));
    free(s);
    return WS_OK;
}

/* The descriptor wsrun reads first.  WS_PLUGIN_HEADER records the ABI
 * version this file was compiled against, so an incompatible wsrun
 * refuses it with a clear message instead of crashing. */
static const ws_plugin template_plugin = {
    WS_PLUGIN_HEADER,
    .name = "template",
    .version = "0.1",
    .description = "starting point for a new plugin: adds up scale * index",
    .options = template_options,
    .init = template_init,
    .run_one = template_run_one,
    .finish = template_finish,
};

WS_PLUGIN_DEFINE(template_plugin)

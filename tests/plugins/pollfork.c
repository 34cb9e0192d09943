/*
 * pollfork.c - test fixture for issue 14, item 1: run_one reads
 * top = ws_frame_top(ctx), calls ws_poll (so a thief that asked gets the
 * rest of the running range split off), then forks children with the _at
 * calls from that top and checks their sum.  finish checks that every
 * index ran exactly once with the right sum, prints
 * "pollfork: <count> indices, each once, sums right" and fails otherwise.
 * Before the runtime kept split ranges off the frame stack this lost
 * indices, hung, or crashed at -j2 and -j4.  Never used as an example.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "wsrun.h"

typedef struct pollfork_state {
    uint64_t count;
    _Atomic uint8_t *hits; /* hits[i]: times index i ran with the right sum */
    _Atomic uint64_t wrong_sums;
} pollfork_state;

static int pollfork_init(ws_ctx *ctx, void **state)
{
    uint64_t count = ws_run_count(ctx);
    if (count == WS_COUNT_UNSET || count > ((uint64_t)1 << 32))
        return ws_fail(ctx, "give --count (at most 2^32)");
    pollfork_state *s = calloc(1, sizeof *s);
    if (!s || !(s->hits = calloc(count ? count : 1, 1))) {
        free(s);
        return ws_fail(ctx, "out of memory");
    }
    s->count = count;
    *state = s;
    return WS_OK;
}

static int pollfork_child(ws_ctx *ctx, ws_frame *self)
{
    (void)ctx;
    self->ret.u = ws_mix64(self->arg[0].u);
    return WS_OK;
}

static int pollfork_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    pollfork_state *s = state;
    ws_frame *top = ws_frame_top(ctx);
    for (volatile unsigned spin = 0; spin < 2000; spin++)
        ; /* long enough for idle workers to ask */
    ws_poll(ctx);
    unsigned n = 1 + (unsigned)(index % 3);
    uint64_t expect = 0, sum = 0;
    for (unsigned c = 0; c < n; c++) {
        ws_frame *f = ws_frame_at(ctx, top + c, pollfork_child);
        f->arg[0].u = index * 4 + c;
        ws_spawn_at(ctx, f);
        expect += ws_mix64(index * 4 + c);
    }
    for (unsigned c = n; c-- > 0;) {
        ws_frame *f = top + c;
        if (ws_pop_at(ctx, f))
            pollfork_child(ctx, f);
        else
            ws_join_at(ctx, f);
        sum += f->ret.u;
    }
    if (sum != expect)
        atomic_fetch_add(&s->wrong_sums, 1);
    else
        atomic_fetch_add(&s->hits[index], 1);
    return WS_OK;
}

static int pollfork_finish(void *state, int run_status, ws_ctx *ctx)
{
    pollfork_state *s = state;
    int rc = WS_OK;
    if (run_status == 0) {
        for (uint64_t i = 0; i < s->count && rc == WS_OK; i++)
            if (atomic_load(&s->hits[i]) != 1)
                rc = ws_fail(ctx, "index %llu ran %u times with the right sum",
                             (unsigned long long)i, (unsigned)atomic_load(&s->hits[i]));
        if (rc == WS_OK && atomic_load(&s->wrong_sums))
            rc = ws_fail(ctx, "%llu wrong sums", (unsigned long long)atomic_load(&s->wrong_sums));
        if (rc == WS_OK) {
            printf("pollfork: %llu indices, each once, sums right\n", (unsigned long long)s->count);
            fflush(stdout);
        }
    }
    free(s->hits);
    free(s);
    return rc;
}

static const ws_plugin pollfork = {
    WS_PLUGIN_HEADER,
    .name = "pollfork",
    .version = "0.1",
    .description = "test fixture: ws_poll, then _at forks from the old top",
    .init = pollfork_init,
    .run_one = pollfork_run_one,
    .finish = pollfork_finish,
};

WS_PLUGIN_DEFINE(pollfork)

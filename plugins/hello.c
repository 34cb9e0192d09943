/*
 * hello.c - the smallest useful wsrun plugin, as a template for your own.
 * It counts the indices it ran and says so once at the end; with
 * -o every=K it also logs every K-th index.
 *
 *   make && build/wsrun --plugin hello --count 1000 -o every=250
 *   build/wsrun --plugin hello --help
 *
 * A plugin must never keep per-index state in globals (run_one runs on
 * many threads at once), never print to stdout/stderr directly (use
 * ws_log, which respects --quiet and keeps lines whole), and never exit():
 * report errors with "return ws_fail(ctx, ...)" and wsrun names the index.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "wsrun.h"

/* Everything run_one needs, built once by init and shared by all workers.
 * Read-only during the run except for the atomic counter. */
typedef struct hello_state {
    const char *greeting;
    int64_t every; /* 0: log nothing per index */
    int shout;
    _Atomic uint64_t ran;
} hello_state;

/* The options table: wsrun parses -o key=value against it, checks types and
 * ranges, and prints it for `wsrun --plugin hello --help`. */
static const ws_option hello_options[] = {
    {.name = "greeting", .type = WS_OPT_STRING, .default_value = "hello",
     .help = "word logged with each sampled index"},
    {.name = "every", .type = WS_OPT_INT, .default_value = "0", .min = 0, .max = 1e12,
     .help = "log every N-th index (0: none)"},
    {.name = "shout", .type = WS_OPT_BOOL, .default_value = "false",
     .help = "end the closing line with '!'"},
    {.name = NULL},
};

/* Main thread, once.  Read options here, not in run_one: it is cheaper and
 * a bad combination can still be refused before any index runs. */
static int hello_init(ws_ctx *ctx, void **state)
{
    hello_state *s = calloc(1, sizeof *s);
    if (!s)
        return ws_fail(ctx, "out of memory");
    s->greeting = ws_opt_str(ctx, "greeting");
    s->every = ws_opt_int(ctx, "every");
    s->shout = ws_opt_bool(ctx, "shout");
    atomic_init(&s->ran, 0);
    *state = s;
    return WS_OK;
}

/* Any worker thread, many at once.  Keep it free of locks and globals. */
static int hello_run_one(void *state, uint64_t index, ws_ctx *ctx)
{
    hello_state *s = state;
    if (s->every > 0 && index % (uint64_t)s->every == 0)
        ws_log(ctx, "%s from index %llu on worker %u", s->greeting, (unsigned long long)index,
               ctx->worker_id);
    /* relaxed: only the total matters, read after every worker stopped. */
    atomic_fetch_add_explicit(&s->ran, 1, memory_order_relaxed);
    return WS_OK;
}

/* Main thread, once, after the workers stopped; also after failures
 * (run_status != 0), so it always frees the state. */
static int hello_finish(void *state, int run_status, ws_ctx *ctx)
{
    hello_state *s = state;
    if (run_status == 0)
        ws_log(ctx, "ran %llu indices%s", (unsigned long long)atomic_load(&s->ran),
               s->shout ? "!" : ".");
    free(s);
    return WS_OK;
}

static const ws_plugin hello_plugin = {
    WS_PLUGIN_HEADER,
    .name = "hello", /* must match the file name: hello.so */
    .version = "1.0",
    .description = "example plugin: counts its indices, logs every N-th",
    .options = hello_options,
    .init = hello_init,
    .run_one = hello_run_one,
    .finish = hello_finish,
};

WS_PLUGIN_DEFINE(hello_plugin)

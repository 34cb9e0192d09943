/* primes.c - a wsrun plugin: counts the primes below a bound, one index per number. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include "wsrun.h"
static const ws_option primes_options[] = {
    {"below", WS_OPT_INT, "1000000", "count the primes below this number", NULL, 2, 1e12},
    {NULL}};
static int primes_init(ws_ctx *ctx, void **state)
{
    ws_set_count(ctx, (uint64_t)ws_opt_int(ctx, "below")); /* index n tests the number n */
    *state = calloc(1, sizeof(_Atomic uint64_t));
    return *state ? WS_OK : ws_fail(ctx, "out of memory");
}

static int primes_run_one(void *state, uint64_t n, ws_ctx *ctx)
{
    (void)ctx;
    uint64_t d = 2;
    while (d * d <= n && n % d != 0)
        d++;
    if (n >= 2 && d * d > n) /* n is prime; other workers may add at the same time */
        atomic_fetch_add((_Atomic uint64_t *)state, 1);
    return WS_OK;
}

static int primes_finish(void *state, int run_status, ws_ctx *ctx)
{
    if (run_status == 0) /* only a complete run has a result */
        printf("primes below %llu: %llu\n", (unsigned long long)ws_run_count(ctx),
               (unsigned long long)atomic_load((_Atomic uint64_t *)state));
    free(state);
    return WS_OK;
}

static const ws_plugin primes_plugin = {WS_PLUGIN_HEADER, .name = "primes", .version = "1.0",
    .description = "count the primes below a bound", .options = primes_options,
    .init = primes_init, .run_one = primes_run_one, .finish = primes_finish};
WS_PLUGIN_DEFINE(primes_plugin)

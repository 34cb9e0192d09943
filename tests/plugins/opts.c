/*
 * opts.c - test fixture: one option of each type; finish prints the parsed
 * values on stdout so CLI tests can check -o parsing end to end (types,
 * defaults, "last one wins").  Runs no work per index.
 */
#include <stdio.h>

#include "fixture.h"

static const ws_option opts_options[] = {
    {.name = "n", .type = WS_OPT_INT, .default_value = "10", .min = 1, .max = 100,
     .help = "an int in 1..100"},
    {.name = "ratio", .type = WS_OPT_DOUBLE, .default_value = "0.5", .min = 0, .max = 1,
     .help = "a double in 0..1"},
    {.name = "label", .type = WS_OPT_STRING, .help = "a string without default"},
    {.name = "fast", .type = WS_OPT_BOOL, .default_value = "false", .help = "a bool"},
    {.name = "mode", .type = WS_OPT_ENUM, .default_value = "gray", .choices = "gray|rgb|cmyk",
     .help = "an enum"},
    {.name = NULL},
};

static int opts_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)state;
    const char *label = ws_opt_str(ctx, "label");
    printf("opts: status=%d n=%lld ratio=%g label=%s fast=%d mode=%d given=%d%d%d%d%d\n",
           run_status, (long long)ws_opt_int(ctx, "n"), ws_opt_double(ctx, "ratio"),
           label ? label : "(unset)", ws_opt_bool(ctx, "fast"), ws_opt_enum(ctx, "mode"),
           ws_opt_given(ctx, "n"), ws_opt_given(ctx, "ratio"), ws_opt_given(ctx, "label"),
           ws_opt_given(ctx, "fast"), ws_opt_given(ctx, "mode"));
    fflush(stdout);
    return WS_OK;
}

static const ws_plugin opts = {
    WS_PLUGIN_HEADER,
    .name = "opts",
    .version = "0.2",
    .description = "test fixture: one option of each type",
    .options = opts_options,
    .run_one = fixture_run_nothing,
    .finish = opts_finish,
};

WS_PLUGIN_DEFINE(opts)

/*
 * initfail.c - test fixture: init fails with a message.  wsrun must print
 * "initfail: init failed: <message>", exit 2, run no index and not call
 * finish (finish here would print to stdout, which the tests check).
 */
#include <stdio.h>

#include "fixture.h"

static int initfail_init(ws_ctx *ctx, void **state)
{
    *state = NULL;
    return ws_fail(ctx, "no such widget '%s'", "sprocket");
}

static int initfail_finish(void *state, int run_status, ws_ctx *ctx)
{
    (void)state;
    (void)ctx;
    printf("initfail: finish called with status %d\n", run_status);
    return WS_OK;
}

static const ws_plugin initfail = {
    WS_PLUGIN_HEADER,
    .name = "initfail",
    .init = initfail_init,
    .run_one = fixture_run_nothing,
    .finish = initfail_finish,
};

WS_PLUGIN_DEFINE(initfail)

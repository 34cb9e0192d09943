/*
 * norunone.c - test fixture: a descriptor without run_one.  The loader must
 * refuse it.
 */
#include "fixture.h"

static const ws_plugin norunone = {
    WS_PLUGIN_HEADER,
    .name = "norunone",
    .run_one = NULL,
};

WS_PLUGIN_DEFINE(norunone)

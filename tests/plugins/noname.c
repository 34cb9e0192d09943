/*
 * noname.c - test fixture: a descriptor whose name is NULL.  The loader must
 * refuse it.
 */
#include "fixture.h"

static const ws_plugin noname = {
    WS_PLUGIN_HEADER,
    .name = NULL,
    .run_one = fixture_run_nothing,
};

WS_PLUGIN_DEFINE(noname)

/*
 * badabi.c - test fixture: a descriptor claiming plugin ABI major 99.  The
 * loader must refuse it saying expected 1, found 99, before calling it.
 */
#include "fixture.h"

static const ws_plugin badabi = {
    .abi_major = 99,
    .abi_minor = 0,
    .struct_size = (uint32_t)sizeof(ws_plugin),
    .name = "badabi",
    .run_one = fixture_run_nothing,
};

WS_PLUGIN_DEFINE(badabi)

/*
 * shortdesc.c - test fixture: struct_size smaller than the v1 minimum (as if
 * built for a descriptor without worker_init/worker_fini).  The loader must
 * refuse it and must not read past struct_size.
 */
#include <stddef.h>

#include "fixture.h"

static const ws_plugin shortdesc = {
    .abi_major = WS_ABI_MAJOR,
    .abi_minor = WS_ABI_MINOR,
    .struct_size = (uint32_t)offsetof(ws_plugin, worker_init),
    .name = "shortdesc",
    .run_one = fixture_run_nothing,
};

WS_PLUGIN_DEFINE(shortdesc)

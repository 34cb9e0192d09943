/*
 * noheader.c - test fixture: a descriptor written without
 * WS_PLUGIN_HEADER (abi_major, abi_minor, struct_size and flags all 0), a
 * new author's slip.  The loader must name the missing macro, not speak of
 * an ABI mismatch, before calling anything.
 */
#include "fixture.h"

static const ws_plugin noheader = {
    .name = "noheader",
    .run_one = fixture_run_nothing,
};

WS_PLUGIN_DEFINE(noheader)

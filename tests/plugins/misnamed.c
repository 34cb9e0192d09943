/*
 * misnamed.c - test fixture: the descriptor's name ("othername") does not
 * match the file name (misnamed.so).  The loader must refuse it.
 */
#include "fixture.h"

static const ws_plugin misnamed = {
    WS_PLUGIN_HEADER,
    .name = "othername",
    .run_one = fixture_run_nothing,
};

WS_PLUGIN_DEFINE(misnamed)

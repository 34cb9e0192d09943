/*
 * ctrltext.c - test fixture: a descriptor whose version and description
 * hold terminal control sequences (set the window title, clear the
 * screen), so tests/cli/hostile.sh can check that --list-plugins and
 * --help print them escaped.  Never used as an example.
 */
#include "fixture.h"

static const ws_plugin ctrltext = {
    WS_PLUGIN_HEADER,
    .name = "ctrltext",
    .version = "1\033[2J",
    .description = "evil \033]0;PWNED\007 text",
    .run_one = fixture_run_nothing,
};

WS_PLUGIN_DEFINE(ctrltext)

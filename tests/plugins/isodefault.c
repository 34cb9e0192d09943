/*
 * isodefault.c - test fixture: the isocrash fixture (isofixture.h) as a
 * plugin that asks for isolation by default (WS_PLUGIN_ISOLATE_DEFAULT),
 * so a plain `wsrun` run isolates it and --isolate=off does not.
 * Never use it as an example.
 */
#define ISO_NAME "isodefault"
#define ISO_FLAGS WS_PLUGIN_ISOLATE_DEFAULT
#include "isofixture.h"

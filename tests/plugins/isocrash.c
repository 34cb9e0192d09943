/*
 * isocrash.c - test fixture for --isolate: misbehaves at one index
 * (isofixture.h says how), and is marked WS_PLUGIN_ISOLATABLE.
 * Fixtures exist to fail on purpose; never use them as examples.
 */
#define ISO_NAME "isocrash"
#define ISO_FLAGS WS_PLUGIN_ISOLATABLE
#include "isofixture.h"

/*
 * unsyncedat.c - test fixture: forkmisuse.c built with WS_CHECK_SPAWNS, the
 * checking build of wsrun.h in which the _at calls keep the frame stack's
 * record, so a ws_spawn_at never synced is named at its index.  Options as
 * forkmisuse's (where=unsynced_at is the case of interest; where=unsynced
 * and a correct where=fib check that the checking build changes nothing else).
 * Never used as an example.
 */
#define WS_CHECK_SPAWNS 1
#define FORKMISUSE_NAME "unsyncedat"
#include "forkmisuse.c"

/*
 * fixture.h - shared bits of the test fixture plugins in tests/plugins/:
 * a run_one that does nothing, for descriptors that are wrong elsewhere.
 * Fixtures exist to be refused or to fail on purpose; never use them as
 * examples (plugins/hello.c is the example).
 */
#ifndef WSTEST_FIXTURE_H
#define WSTEST_FIXTURE_H

#include "wsrun.h"

static inline int fixture_run_nothing(void *state, uint64_t index, ws_ctx *ctx)
{
    (void)state;
    (void)index;
    (void)ctx;
    return WS_OK;
}

#endif

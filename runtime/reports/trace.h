/*
 * trace.h - internal: --trace FILE, the pool's per-worker trace events as
 * Chrome trace-event JSON (opens in Perfetto and chrome://tracing).
 *
 * One track per worker (tid = worker + 1, named "worker N"); "X" complete
 * events for index ranges ("indices A-B", args begin and end with end
 * exclusive), stolen fork-join tasks and parked periods; "i" instant
 * events for steals.  Times are microseconds since the pool started, with
 * nanosecond digits.  Never touches the events while the pool runs: it
 * reads wsrt_pool_result.traces after wsrt_pool_run returned.
 */
#ifndef WSRT_TRACE_H
#define WSRT_TRACE_H

#include <stdio.h>

#include "pool.h"
#include "run.h"

/* Write the whole trace document to `out`.  Sorts each worker's events by
 * start time (longest first on ties), so nested spans come parent first. */
void wsrt_trace_write(FILE *out, const ws_run *run, wsrt_pool_result *result);

/* Free result->traces and the events in it; leaves result->traces NULL. */
void wsrt_trace_free(wsrt_pool_result *result);

#endif

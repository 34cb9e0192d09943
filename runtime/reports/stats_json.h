/*
 * stats_json.h - internal: --stats-json FILE, the run's scheduler
 * statistics as one JSON object: per worker and in total, indices and
 * tasks run, steals tried and taken, splits, busy / idle / parked time,
 * and the throughput.  Reads wsrt_pool_result after the pool returned; never
 * prints anything itself.
 */
#ifndef WSRT_STATS_JSON_H
#define WSRT_STATS_JSON_H

#include <stdio.h>

#include "pool.h"
#include "run.h"

/* Sum of the per-worker counters (the "total" row of --stats). */
void wsrt_stats_total(const wsrt_pool_result *result, wsrt_worker_stats *total);

void wsrt_stats_json_write(FILE *out, const ws_run *run, const wsrt_pool_result *result);

#endif

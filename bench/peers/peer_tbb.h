/*
 * peer_tbb.h - the oneTBB peers' thread-pool start, done before the timed
 * span (see peer.h).  Must never do any of the measured work.
 */
#ifndef PEER_TBB_H
#define PEER_TBB_H

#include <atomic>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

#include "peer.h"

/* oneTBB starts worker threads when work arrives in an arena: give every
 * slot of `arena` one task that waits (at most 0.1 s) until all `jobs` have
 * begun, so each runs on a thread of its own and all of them are up. */
static inline void peer_tbb_start_pool(tbb::task_arena &arena, int jobs)
{
    std::atomic<int> arrived{0};
    arena.execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<int>(0, jobs, 1),
            [&](const tbb::blocked_range<int> &) {
                arrived.fetch_add(1);
                double t0 = peer_now();
                while (arrived.load() < jobs && peer_now() - t0 < 0.1) {
                }
            },
            tbb::simple_partitioner());
    });
}

#endif

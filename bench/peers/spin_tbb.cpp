/*
 * spin_tbb.cpp - benchmark peer: the spin work in oneTBB's parallel_for with
 * its default (auto) partitioner, the form a TBB user writes.
 *
 *   spin_tbb -j 2 count=20000 mean-us=10 shape=heavy ...
 */
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>

#include "spin_peer.h"
#include "peer_tbb.h"

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    spin_peer *s = spin_peer_new(&a);
    uint64_t n = spin_peer_count(s);
    std::atomic<uint64_t> sink{0};
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, (size_t)a.jobs);
    tbb::task_arena arena(a.jobs);
    peer_tbb_start_pool(arena, a.jobs);
    peer_clock span = peer_start();
    arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<uint64_t>(0, n), [&](const tbb::blocked_range<uint64_t> &r) {
            uint64_t local = 0;
            for (uint64_t i = r.begin(); i != r.end(); ++i)
                local += spin_peer_run(s, i);
            sink.fetch_add(local, std::memory_order_relaxed);
        });
    });
    peer_stop(&span);
    spin_peer_report(s, n);
    peer_report(&span);
    return sink.load() == 42 ? 3 : 0;
}

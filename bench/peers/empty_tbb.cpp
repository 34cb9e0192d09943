/*
 * empty_tbb.cpp - benchmark peer: the empty plugin's run_one called for
 * every index from oneTBB's parallel_for (default partitioner).
 *
 *   empty_tbb -j 2 so=build/plugins/empty.so count=100000000
 */
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <atomic>

#include "empty_load.h"
#include "peer.h"
#include "peer_tbb.h"

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    empty_run_fn run_one = empty_load_run_one(peer_str(&a, "so", "build/plugins/empty.so"));
    uint64_t n = (uint64_t)peer_int(&a, "count", 100000000);
    std::atomic<uint64_t> failed{0};
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, (size_t)a.jobs);
    tbb::task_arena arena(a.jobs);
    peer_tbb_start_pool(arena, a.jobs);
    peer_clock span = peer_start();
    arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<uint64_t>(0, n), [&](const tbb::blocked_range<uint64_t> &r) {
            uint64_t bad = 0;
            for (uint64_t i = r.begin(); i != r.end(); ++i)
                bad += run_one(nullptr, i, nullptr) != 0;
            if (bad)
                failed.fetch_add(bad, std::memory_order_relaxed);
        });
    });
    peer_stop(&span);
    printf("empty = %llu indices\n", (unsigned long long)(n - failed.load()));
    peer_report(&span);
    return failed.load() != 0;
}

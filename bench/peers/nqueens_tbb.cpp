/*
 * nqueens_tbb.cpp - benchmark peer: N-queens with oneTBB's task_group, one
 * task per safe column of each row, as the nqueens plugin spawns; from row
 * `cutoff` on (0: never) serial.  Must stay the textbook task form.
 *
 *   nqueens_tbb -j 2 n=13
 */
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include "peer.h"
#include "nqueens_serial.h"
#include "peer_tbb.h"

static uint64_t nq_tasks(uint32_t all, int cutoff, uint32_t cols, uint32_t left, uint32_t right)
{
    if (cols == all)
        return 1;
    if (cutoff > 0 && __builtin_popcount(cols) >= cutoff)
        return nq_serial(all, cols, left, right);
    uint64_t counts[32];
    int k = 0;
    tbb::task_group g;
    uint32_t free_cols = all & ~(cols | left | right);
    while (free_cols) {
        uint32_t bit = free_cols & -free_cols;
        free_cols ^= bit;
        uint64_t *slot = &counts[k++];
        g.run([=] { *slot = nq_tasks(all, cutoff, cols | bit, (left | bit) << 1, (right | bit) >> 1); });
    }
    g.wait();
    uint64_t total = 0;
    for (int i = 0; i < k; i++)
        total += counts[i];
    return total;
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    int n = (int)peer_int(&a, "n", 13), cutoff = (int)peer_int(&a, "cutoff", 0);
    if (n < 1 || n > 20)
        peer_die(&a, "n must be 1..20", peer_str(&a, "n", ""));
    uint64_t r = 0;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, (size_t)a.jobs);
    tbb::task_arena arena(a.jobs);
    peer_tbb_start_pool(arena, a.jobs);
    peer_clock span = peer_start();
    arena.execute([&] { r = nq_tasks((1u << n) - 1, cutoff, 0, 0, 0); });
    peer_stop(&span);
    printf("nqueens(%d) = %llu\n", n, (unsigned long long)r);
    peer_report(&span);
    return 0;
}

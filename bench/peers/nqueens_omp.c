/*
 * nqueens_omp.c - benchmark peer: N-queens with OpenMP tasks (libgomp), one
 * task per safe column of each row, as the nqueens plugin spawns; from row
 * `cutoff` on (0: never) serial.  Must stay the textbook task form.
 *
 *   nqueens_omp -j 2 n=13
 */
#include <omp.h>

#include "peer.h"
#include "nqueens_serial.h"
#include "peer_omp.h"

static uint64_t nq_tasks(uint32_t all, int cutoff, uint32_t cols, uint32_t left, uint32_t right)
{
    if (cols == all)
        return 1;
    if (cutoff > 0 && __builtin_popcount(cols) >= cutoff)
        return nq_serial(all, cols, left, right);
    uint64_t counts[32];
    int k = 0;
    uint32_t free_cols = all & ~(cols | left | right);
    while (free_cols) {
        uint32_t bit = free_cols & -free_cols;
        free_cols ^= bit;
#pragma omp task shared(counts) firstprivate(k, bit)
        counts[k] = nq_tasks(all, cutoff, cols | bit, (left | bit) << 1, (right | bit) >> 1);
        k++;
    }
#pragma omp taskwait
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
    omp_set_num_threads(a.jobs);
    peer_omp_start_pool();
    peer_clock span = peer_start();
#pragma omp parallel
#pragma omp single
    r = nq_tasks((1u << n) - 1, cutoff, 0, 0, 0);
    peer_stop(&span);
    printf("nqueens(%d) = %llu\n", n, (unsigned long long)r);
    peer_report(&span);
    return 0;
}

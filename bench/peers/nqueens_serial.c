/*
 * nqueens_serial.c - benchmark peer: the serial N-queens count, the same
 * bit-mask search the nqueens plugin runs below its cutoff; the baseline
 * for T1/Ts.  Must stay identical to the plugin's serial search.
 *
 *   nqueens_serial n=13   prints "nqueens(13) = 73712" and "time_s ..."
 */
#include "peer.h"

static uint64_t nq_serial(uint32_t all, uint32_t cols, uint32_t left, uint32_t right)
{
    if (cols == all)
        return 1;
    uint64_t count = 0;
    uint32_t free_cols = all & ~(cols | left | right);
    while (free_cols) {
        uint32_t bit = free_cols & -free_cols;
        free_cols ^= bit;
        count += nq_serial(all, cols | bit, (left | bit) << 1, (right | bit) >> 1);
    }
    return count;
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    int n = (int)peer_int(&a, "n", 13);
    if (n < 1 || n > 20)
        peer_die(&a, "n must be 1..20", peer_str(&a, "n", ""));
    peer_clock span = peer_start();
    uint64_t r = nq_serial((1u << n) - 1, 0, 0, 0);
    peer_stop(&span);
    printf("nqueens(%d) = %llu\n", n, (unsigned long long)r);
    peer_report(&span);
    return 0;
}

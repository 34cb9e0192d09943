/*
 * nqueens_serial.c - benchmark peer: the serial N-queens count, the same
 * bit-mask search the nqueens plugin runs below its cutoff (both include
 * plugins/nqueens_serial.h); the baseline for T1/Ts.  Must never add
 * anything around the search that the plugin does not do.
 *
 *   nqueens_serial n=13   prints "nqueens(13) = 73712" and "time_s ..."
 */
#include "peer.h"
#include "nqueens_serial.h"

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

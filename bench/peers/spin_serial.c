/*
 * spin_serial.c - benchmark peer: the spin work in a plain serial loop, the
 * baseline for the spin plugin's T1/Ts.
 *
 *   spin_serial count=20000 mean-us=10 shape=heavy iters-per-us=N seed=1
 *   spin_serial calibrate=1     prints "iters_per_us N" for the others
 */
#include "spin_peer.h"

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    if (peer_int(&a, "calibrate", 0)) {
        printf("iters_per_us %.3f\n", spin_peer_calibrate());
        return 0;
    }
    spin_peer *s = spin_peer_new(&a);
    uint64_t n = spin_peer_count(s), sink = 0;
    peer_clock span = peer_start();
    for (uint64_t i = 0; i < n; i++)
        sink += spin_peer_run(s, i);
    peer_stop(&span);
    spin_peer_report(s, n);
    peer_report(&span);
    return sink == 42 ? 3 : 0; /* uses sink; never 42 in practice */
}

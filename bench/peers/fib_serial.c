/*
 * fib_serial.c - benchmark peer: plain recursive fib(n), the baseline the
 * fib plugin's one-worker time is divided by (T1/Ts).  Built with the same
 * flags as the plugin; must stay the very function the plugin uses below
 * its cutoff, with nothing added.
 *
 *   fib_serial n=35       prints "fib(35) = 9227465" and "time_s ..."
 */
#include "peer.h"

static int64_t fib_serial(int64_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    int64_t n = peer_int(&a, "n", 35);
    peer_clock span = peer_start();
    int64_t r = fib_serial(n);
    peer_stop(&span);
    printf("fib(%lld) = %lld\n", (long long)n, (long long)r);
    peer_report(&span);
    return 0;
}

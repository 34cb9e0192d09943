/*
 * fib_omp.c - benchmark peer: fib(n) with OpenMP tasks (gcc's libgomp), one
 * task per call like the fib plugin: task for fib(n-1), fib(n-2) inline,
 * taskwait.  Below `cutoff` plain recursion.  Must stay the textbook form
 * a user would write, with no tuning the plugin does not get.
 *
 *   fib_omp -j 2 n=35 cutoff=0
 */
#include <omp.h>

#include "peer.h"
#include "peer_omp.h"

static int64_t fib_serial(int64_t n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

static int64_t fib_tasks(int64_t n, int64_t cutoff)
{
    if (n < 2)
        return n;
    if (n < cutoff)
        return fib_serial(n);
    int64_t x, y;
#pragma omp task shared(x) firstprivate(n, cutoff)
    x = fib_tasks(n - 1, cutoff);
    y = fib_tasks(n - 2, cutoff);
#pragma omp taskwait
    return x + y;
}

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    int64_t n = peer_int(&a, "n", 35), cutoff = peer_int(&a, "cutoff", 0);
    int64_t r = 0;
    omp_set_num_threads(a.jobs);
    peer_omp_start_pool();
    peer_clock span = peer_start();
#pragma omp parallel
#pragma omp single
    r = fib_tasks(n, cutoff);
    peer_stop(&span);
    printf("fib(%lld) = %lld\n", (long long)n, (long long)r);
    peer_report(&span);
    return 0;
}

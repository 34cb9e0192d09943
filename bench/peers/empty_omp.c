/*
 * empty_omp.c - benchmark peer: the empty plugin's run_one called for every
 * index from an OpenMP loop, schedule(static) (libgomp's cheapest).
 *
 *   empty_omp -j 2 so=build/plugins/empty.so count=100000000
 */
#include <omp.h>

#include "empty_load.h"
#include "peer.h"
#include "peer_omp.h"

int main(int argc, char **argv)
{
    peer_args a = peer_parse(argc, argv);
    empty_run_fn run_one = empty_load_run_one(peer_str(&a, "so", "build/plugins/empty.so"));
    long long n = peer_int(&a, "count", 100000000);
    uint64_t failed = 0;
    omp_set_num_threads(a.jobs);
    peer_omp_start_pool();
    peer_clock span = peer_start();
#pragma omp parallel for schedule(static) reduction(+ : failed)
    for (long long i = 0; i < n; i++)
        failed += run_one(NULL, (uint64_t)i, NULL) != 0;
    peer_stop(&span);
    printf("empty = %llu indices\n", (unsigned long long)((uint64_t)n - failed));
    peer_report(&span);
    return failed != 0;
}
